"""The spider's follow decisions on single responses (no network) and the crawl settings."""

from __future__ import annotations

import re
from pathlib import Path

from scrapy import Request
from scrapy.http import HtmlResponse, TextResponse
from scrapy.utils.test import get_crawler

from kuaizhao.crawler.links import absolute
from kuaizhao.crawler.run import crawl_settings
from kuaizhao.crawler.spider import LIST_DEPTH, OutletSpider
from kuaizhao.lib.outlets import Outlet

BASE = "http://x.cn/news/"
ART = BASE + "2024/0101/c1-{}.html"


def make_outlet(**overrides: object) -> Outlet:
    fields: dict[str, object] = {
        "slug": "x",
        "name": "X",
        "home": BASE,
        "scope": (BASE,),
        "start_urls": (BASE,),
        "feeds": (BASE + "rss.xml",),
        "sitemaps": (BASE + "sitemap.xml",),
        "article_patterns": (re.compile(r"/c\d+-\d+\.html$"),),
        "ignore_patterns": (re.compile("/print/"),),
        "concurrency": 3,
        "delay": 0.5,
    }
    fields.update(overrides)
    return Outlet(**fields)  # type: ignore[arg-type]


def page(url: str, body: str, request: Request | None = None) -> HtmlResponse:
    html = f"<html><head><meta charset=utf-8></head><body>{body}</body></html>"
    return HtmlResponse(url, body=html.encode(), encoding="utf-8", request=request)


def spider() -> OutletSpider:
    crawler = get_crawler(OutletSpider)
    return OutletSpider.from_crawler(crawler, outlets=[make_outlet()])


def test_seed_requests_carry_outlet_slot_and_kind() -> None:
    requests = list(spider().seed_requests(make_outlet()))
    assert [r.url for r in requests] == [BASE, BASE + "rss.xml", BASE + "sitemap.xml"]
    for request in requests:
        assert request.meta["download_slot"] == "x"
        assert request.cb_kwargs["slug"] == "x"
    assert [r.meta["kuaizhao_kind"] for r in requests] == ["page", "feed", "sitemap"]


def test_list_page_follows_scope_pagination_and_articles() -> None:
    body = "".join(
        [
            f'<a href="{ART.format(1)}">一</a>',
            '<a href="/news/print/c1-1.html">打印</a>',
            '<a href="http://elsewhere.cn/">站外</a>',
            '<a href="guonei/">国内</a>',
            '<a href="index_2.html">2</a>',
            '<a href="clip.mp4">视频</a>',
        ]
    )
    out = list(spider().parse_list(page(BASE, body), slug="x", depth=0, page=1))
    kinds = {r.url: (r.meta["kuaizhao_kind"], r.cb_kwargs) for r in out}
    assert set(kinds) == {ART.format(1), BASE + "guonei/", BASE + "index_2.html"}
    assert kinds[ART.format(1)][0] == "article"
    assert kinds[BASE + "guonei/"][1]["depth"] == 1
    assert kinds[BASE + "index_2.html"][1] == {"slug": "x", "depth": 0, "page": 2}


def test_list_depth_limit_keeps_articles_and_pagination() -> None:
    body = f'<a href="{ART.format(1)}">一</a><a href="more/">更多</a><a href="x.html">下一页</a>'
    out = list(spider().parse_list(page(BASE, body), slug="x", depth=LIST_DEPTH, page=1))
    assert {r.url for r in out} == {ART.format(1), BASE + "x.html"}


def test_article_follows_continuations_images_and_article_links_only() -> None:
    url = ART.format(5)
    body = "".join(
        [
            '<div class="pages"><a href="c1-5_2.html">2</a><a href="c1-5_3.html">下一页</a></div>',
            f'<a href="{ART.format(6)}">相关</a>',
            '<a href="/news/about.html">关于</a>',
            '<a href="http://other.cn/2024/0101/c1-7.html">站外文章</a>',
            '<img src="/news/img/a.jpg"><img data-src="http://cdn.cn/b.png"><img src="data:x">',
        ]
    )
    s = spider()
    out = list(s.parse_article(page(url, body), slug="x", article=url, part=1))
    assert s.crawler.stats.get_value("kuaizhao/articles") == 1
    by_url = {r.url: r for r in out}
    assert set(by_url) == {
        BASE + "2024/0101/c1-5_2.html",
        BASE + "2024/0101/c1-5_3.html",
        ART.format(6),
        BASE + "img/a.jpg",
        "http://cdn.cn/b.png",
    }
    part = by_url[BASE + "2024/0101/c1-5_3.html"]
    assert part.cb_kwargs == {"slug": "x", "article": url, "part": 3}
    assert by_url["http://cdn.cn/b.png"].meta["download_slot"] == "x"


def test_a_link_no_url_parser_takes_is_skipped_not_the_page() -> None:
    """``http://[x`` (an unclosed IPv6 host) makes urljoin raise: the page's other links
    are followed all the same."""
    url = ART.format(5)
    broken = '<a href="http://[x">坏</a><a href="//[y/z">坏</a><img src="http://[z/a.jpg">'
    body = broken + f'<a href="{ART.format(6)}">相关</a><img src="/news/img/a.jpg">'
    out = list(spider().parse_article(page(url, body), slug="x", article=url, part=1))
    assert {r.url for r in out} == {ART.format(6), BASE + "img/a.jpg"}
    out = list(spider().parse_list(page(BASE, broken + f'<a href="{ART.format(1)}">一</a>'),
                                   slug="x", depth=0, page=1))  # fmt: skip
    assert [r.url for r in out] == [ART.format(1)]
    assert absolute(BASE, "http://[x") is None


def test_feed_and_sitemap_entries_in_scope_become_articles() -> None:
    rss = (
        f"<rss><channel><item><link>{ART.format(1)}</link></item>"
        "<item><link>http://other.cn/a.html</link></item></channel></rss>"
    )
    feed = TextResponse(BASE + "rss.xml", body=rss.encode(), encoding="utf-8")
    assert [r.url for r in spider().parse_feed(feed, slug="x")] == [ART.format(1)]
    index = (
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{BASE}s1.xml</loc></sitemap>"
        "<sitemap><loc>http://other.cn/s.xml</loc></sitemap></sitemapindex>"
    )
    response = TextResponse(BASE + "sitemap.xml", body=index.encode(), encoding="utf-8")
    out = list(spider().parse_sitemap(response, slug="x"))
    assert [(r.url, r.meta["kuaizhao_kind"]) for r in out] == [(BASE + "s1.xml", "sitemap")]


def test_crawl_settings_per_outlet_slots(tmp_path: Path) -> None:
    settings = crawl_settings(
        [make_outlet(), make_outlet(slug="y", concurrency=1, delay=0.0)],
        tmp_path,
        user_agent="ua",
        max_response_bytes=1234,
        timeout=7,
        max_pages=10,
    )
    assert settings["DOWNLOAD_SLOTS"]["x"] == {"concurrency": 3, "delay": 0.5, "jitter": 0.5}
    assert settings["DOWNLOAD_SLOTS"]["y"]["concurrency"] == 1
    assert settings["ROBOTSTXT_OBEY"] is True
    assert (settings["DOWNLOAD_MAXSIZE"], settings["DOWNLOAD_TIMEOUT"]) == (1234, 7)
    assert settings["CLOSESPIDER_PAGECOUNT"] == 10
    middlewares = settings["DOWNLOADER_MIDDLEWARES"]
    guard = middlewares["kuaizhao.crawler.middlewares.AddressGuardMiddleware"]
    recorder = middlewares["kuaizhao.crawler.middlewares.WarcRecorderMiddleware"]
    assert guard < 100 < 590 < recorder  # before robots.txt; after decompression is undone
    assert middlewares["scrapy.downloadermiddlewares.retry.RetryMiddleware"] is None
    assert settings["CONCURRENT_REQUESTS_PER_DOMAIN"] == 2
    assert settings["AUTOTHROTTLE_ENABLED"] is True
