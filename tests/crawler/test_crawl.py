"""Real crawls (``python -m kuaizhao.crawler`` in a subprocess) of a local test site."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from kuaizhao.warc import WarcCapture, iter_captures, list_warc_files
from tests.crawler.site import Page, Site, SiteServer

UA = "kuaizhao-test/1.0 (+http://example.org/bot)"
MAX_BYTES = 200_000
ROOT = Path(__file__).resolve().parents[2]

ARTICLE = (
    '<html><head><meta charset="utf-8"><title>{title}</title></head><body>{body}</body></html>'
)


def html(title: str, body: str, charset: str = "utf-8") -> bytes:
    doc = ARTICLE.replace("utf-8", charset).format(title=title, body=body)
    return doc.encode(charset)


def a(href: str, text: str = "链接") -> str:
    return f'<a href="{href}">{text}</a>'


def build_site(img_port: int) -> tuple[Site, Site]:
    art = "/news/2024/0101/c100-{}.html"
    img_url = f"http://127.0.0.1:{img_port}/img/a.png"
    pages = {
        "/robots.txt": Page(b"User-agent: *\nDisallow: /news/secret/\n", "text/plain"),
        "/news/": Page(
            html(
                "首页",
                "".join(
                    [
                        a("/news/guonei/", "国内"),
                        a(art.format(1), "文章一"),
                        a("/news/secret/page.html", "内部"),
                        a("/news/print/c100-1.html", "打印"),
                        a(art.format(404), "坏链接"),
                        a(art.format(7), "大文章"),
                        a(art.format(8), "大文章二"),
                        a(art.format(10), "搬家的文章"),
                        a("/other/page.html", "站外"),
                        a("/news/video.mp4", "视频"),
                        a("/news/data.bin", "数据"),
                        '<div class="page">' + a("/news/index_2.html", "下一页") + "</div>",
                    ]
                ),
            )
        ),
        "/news/index_2.html": Page(
            html("第二页", a(art.format(2), "文章二（GBK）") + a("/news/", "首页"), "gbk"),
            "text/html",
        ),
        "/news/guonei/": Page(html("国内", a(art.format(3), "文章三") + a("/news/", "首页"))),
        art.format(1): Page(
            html(
                "文章一",
                f'<p>正文</p><img src="{img_url}">'
                + a(art.format(6), "相关新闻")
                + a("/news/about.html", "关于我们")
                + a("/news/print/c100-1.html", "打印"),
            )
        ),
        art.format(2): Page(
            html("文章二", "<p>国内新闻正文</p>" + a("c100-2_2.html", "下一页"), "gbk"),
            "text/html",
        ),
        "/news/2024/0101/c100-2_2.html": Page(
            html("文章二", '<p>第二页</p><img src="../../img/b.jpg">', "gbk"), "text/html"
        ),
        art.format(3): Page(html("文章三", "<p>一</p>" + a("c100-3.html?page=2", "2"))),
        art.format(3) + "?page=2": Page(html("文章三", "<p>二</p>" + a("?page=3", "下一页"))),
        art.format(3) + "?page=3": Page(html("文章三", "<p>三</p>" + a("?page=2", "上一页"))),
        art.format(4): Page(html("文章四", "<p>分块传输</p>" * 500), chunked=True),
        art.format(5): Page(html("文章五", "<p>压缩传输</p>" * 500), gzip=True),
        art.format(6): Page(html("文章六", '<p>相关</p><img src="/news/img/fake.gif">')),
        "/news/img/fake.gif": Page(b"%PDF-1.4" + bytes(100), "application/pdf"),
        art.format(7): Page(html("大", "x" * (MAX_BYTES + 50_000))),
        art.format(8): Page(html("大", "y" * (MAX_BYTES + 50_000)), chunked=True),
        art.format(9): Page(html("文章九", "<p>Atom</p>")),
        art.format(10): Page(b"", status=301, location=art.format(11)),
        art.format(11): Page(html("文章十一", "<p>新地址</p>")),
        "/news/img/b.jpg": Page(b"\xff\xd8\xff\xe0JPEGDATA" + bytes(300), "image/jpeg"),
        "/news/about.html": Page(html("关于", "")),
        "/news/secret/page.html": Page(html("秘密", "")),
        "/news/rss.xml": Page(
            (
                '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                "<title>测试</title><link>http://example.org/</link>"
                f"<item><title>四</title><link>{art.format(4)}</link></item>"
                f"<item><title>一</title><link>{art.format(1)}</link></item>"
                "<item><title>站外</title><link>http://elsewhere.invalid/x.html</link></item>"
                "</channel></rss>"
            ).encode(),
            "application/rss+xml",
        ),
        "/news/atom.xml": Page(
            (
                '<?xml version="1.0" encoding="utf-8"?>'
                '<feed xmlns="http://www.w3.org/2005/Atom"><title>测试</title>'
                f'<entry><title>九</title><link rel="alternate" href="{art.format(9)}"/></entry>'
                "</feed>"
            ).encode(),
            "application/atom+xml",
        ),
        "/news/sitemap.xml": Page(
            (
                b'<?xml version="1.0" encoding="UTF-8"?>'
                b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                b"<sitemap><loc>/news/sitemap-news.xml</loc></sitemap></sitemapindex>"
            ),
            "application/xml",
        ),
        "/news/sitemap-news.xml": Page(
            (
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
                f"<url><loc>{art.format(5)}</loc><news:news><news:title>五</news:title>"
                "</news:news></url></urlset>"
            ).encode(),
            "application/xml",
        ),
    }
    images = {"/img/a.png": Page(b"\x89PNG\r\n\x1a\n" + bytes(500), "image/png")}
    return Site(pages=pages), Site(pages=images)


def write_outlets(directory: Path, port: int) -> None:
    base = f"http://127.0.0.1:{port}/news/"
    directory.mkdir()
    (directory / "testnews.toml").write_text(
        f"""
slug = "testnews"
name = "测试新闻"
home = "{base}"
scope = ["{base}"]
allow_private = true
start_urls = ["{base}"]
feeds = ["{base}rss.xml", "{base}atom.xml"]
sitemaps = ["{base}sitemap.xml"]
article_patterns = ['/\\d{{4}}/\\d{{4}}/c\\d+-\\d+\\.html$']
ignore_patterns = ['/print/']
[politeness]
concurrency = 4
delay = 0.0
""",
        encoding="utf-8",
    )
    blocked = f"http://localhost:{port}/blocked/"
    (directory / "blocked.toml").write_text(
        f"""
slug = "blocked"
name = "未授权"
home = "{blocked}"
scope = ["{blocked}"]
start_urls = ["{blocked}"]
feeds = ["{blocked}rss.xml"]
[politeness]
delay = 0.0
""",
        encoding="utf-8",
    )


def run_crawler(outlets: Path, warc_dir: Path, *extra: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "kuaizhao.crawler", "--outlets", str(outlets)]
    command += ["--warc-dir", str(warc_dir), "--user-agent", UA, *extra]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


@dataclass
class Crawl:
    site: Site
    images: Site
    port: int
    img_port: int
    warc_dir: Path
    stats: dict[str, Any]
    captures: list[WarcCapture]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    tmp = tmp_path_factory.mktemp("crawl")
    # the image host is bound first so its port is known when pages are written
    images_server = SiteServer(Site())
    with images_server:
        site, images = build_site(images_server.port)
        images_server.site.pages.update(images.pages)
        with SiteServer(site) as server:
            write_outlets(tmp / "outlets", server.port)
            stats = run_crawler(
                tmp / "outlets", tmp / "warc", "--max-response-bytes", str(MAX_BYTES)
            )
        captures = [c for p in list_warc_files(tmp / "warc") for c in iter_captures(p)]
        return Crawl(
            site,
            images_server.site,
            server.port,
            images_server.port,
            tmp / "warc",
            stats,
            captures,
        )


def test_warc_holds_exactly_the_expected_urls(crawl: Crawl) -> None:
    art = "/news/2024/0101/c100-{}.html"
    expected = {
        crawl.url(p)
        for p in [
            "/robots.txt",
            "/news/",
            "/news/index_2.html",
            "/news/guonei/",
            "/news/rss.xml",
            "/news/atom.xml",
            "/news/sitemap.xml",
            "/news/sitemap-news.xml",
            *(art.format(n) for n in (1, 2, 3, 4, 5, 6, 9, 10, 11, 404)),
            "/news/2024/0101/c100-2_2.html",
            art.format(3) + "?page=2",
            art.format(3) + "?page=3",
            "/news/img/b.jpg",
        ]
    }
    expected |= {
        f"http://127.0.0.1:{crawl.img_port}/robots.txt",
        f"http://127.0.0.1:{crawl.img_port}/img/a.png",
    }
    urls = Counter(c.url for c in crawl.captures)
    assert set(urls) == expected
    assert all(n == 1 for n in urls.values()), urls
    assert not list(crawl.warc_dir.glob("*.open"))


def test_statuses_and_outlets_are_recorded(crawl: Crawl) -> None:
    by_url = {c.url: c for c in crawl.captures}
    assert by_url[crawl.url("/news/2024/0101/c100-404.html")].status == 404
    assert by_url[crawl.url("/news/2024/0101/c100-10.html")].status == 301
    assert by_url[crawl.url("/robots.txt")].status == 200
    image = by_url[f"http://127.0.0.1:{crawl.img_port}/img/a.png"]
    assert image.outlet == "testnews" and image.content_type == "image/png"
    assert {c.outlet for c in crawl.captures if "/news/" in c.url} == {"testnews"}
    assert all(c.record_type == "response" for c in crawl.captures)


def test_disallowed_and_unfollowed_paths_never_requested(crawl: Crawl) -> None:
    paths = crawl.site.paths()
    assert "/robots.txt" in paths
    for never in (
        "/news/secret/page.html",
        "/news/print/c100-1.html",
        "/news/about.html",
        "/other/page.html",
        "/news/video.mp4",
        "/news/data.bin",
    ):
        assert never not in paths
    assert crawl.stats["robots_forbidden"] >= 1


def test_private_address_refused_for_outlet_without_allow_private(crawl: Crawl) -> None:
    # the "blocked" outlet points at localhost, which resolves to a loopback address
    assert not [p for p in crawl.site.paths() if p.startswith("/blocked/")]
    assert crawl.stats["refused"] >= 2
    assert crawl.stats["per_outlet"]["blocked"]["responses"] == 0
    assert not [c for c in crawl.captures if "localhost" in c.url]


def test_oversize_responses_are_dropped(crawl: Crawl) -> None:
    urls = {c.url for c in crawl.captures}
    assert crawl.url("/news/2024/0101/c100-7.html") not in urls
    assert crawl.url("/news/2024/0101/c100-8.html") not in urls
    assert "/news/2024/0101/c100-7.html" in crawl.site.paths()  # fetched, then dropped


def test_content_types_the_archive_does_not_keep_are_dropped(crawl: Crawl) -> None:
    assert "/news/img/fake.gif" in crawl.site.paths()
    assert crawl.url("/news/img/fake.gif") not in {c.url for c in crawl.captures}
    assert crawl.stats["skipped"] == 1


def test_stored_bodies_are_byte_identical(crawl: Crawl) -> None:
    checked = 0
    for path in list_warc_files(crawl.warc_dir):
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh, check_digests="raise"):
                if record.rec_type != "response":
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI")
                site = crawl.images if f":{crawl.img_port}/" in url else crawl.site
                sent_path = url.split(":", 2)[2].split("/", 1)[1]
                body = record.raw_stream.read()
                sent = site.sent.get("/" + sent_path)
                assert sent is not None, url
                assert body == sent, url
                checked += 1
    assert checked == len(crawl.captures)


def test_gzip_body_kept_encoded_and_chunked_body_dechunked(crawl: Crawl) -> None:
    by_url = {c.url: c for c in crawl.captures}
    gz = by_url[crawl.url("/news/2024/0101/c100-5.html")]
    assert gz.header("Content-Encoding") == "gzip"
    assert gz.payload == crawl.site.pages["/news/2024/0101/c100-5.html"].body
    chunked = by_url[crawl.url("/news/2024/0101/c100-4.html")]
    assert chunked.payload == crawl.site.pages["/news/2024/0101/c100-4.html"].body
    assert chunked.header("Transfer-Encoding") is None


def test_gbk_pages_are_followed_and_kept_raw(crawl: Crawl) -> None:
    by_url = {c.url: c for c in crawl.captures}
    page = by_url[crawl.url("/news/2024/0101/c100-2.html")]
    assert "国内新闻正文" in page.payload.decode("gbk")


def test_request_headers_are_recorded(crawl: Crawl) -> None:
    (path, *_) = list_warc_files(crawl.warc_dir)
    with path.open("rb") as fh:
        requests = [r for r in ArchiveIterator(fh) if r.rec_type == "request"]
    assert requests
    for record in requests:
        assert record.http_headers.get_header("User-Agent") == UA
        assert record.http_headers.get_header("Host")
    with path.open("rb") as fh:
        responses = [r for r in ArchiveIterator(fh) if r.rec_type == "response"]
    assert {r.rec_headers.get_header("WARC-IP-Address") for r in responses} == {"127.0.0.1"}
    seen = [h for _, h in crawl.site.requests]
    assert all(h.get("User-Agent") == UA for h in seen)


def test_stats(crawl: Crawl) -> None:
    stats = crawl.stats
    assert stats["responses"] == len(crawl.captures)
    assert stats["articles"] == 8  # c100-1..6, 9 and the redirected 10
    assert stats["per_outlet"]["testnews"]["articles"] == 8
    assert stats["bytes"] > 0
    assert stats["errors"] >= 1  # the 404
    assert stats["statuses"]["404"] == 2  # the broken link and the image host's robots.txt
    assert stats["finish_reason"] == "finished"
    assert sorted(stats["warc_files"]) == [p.name for p in list_warc_files(crawl.warc_dir)]
