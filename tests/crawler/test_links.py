"""Link classification, feeds, sitemaps, address policy and kept content types."""

from __future__ import annotations

import ipaddress
import re

import pytest

from kuaizhao.crawler.links import (
    absolute,
    feed_links,
    is_continuation,
    is_page_like,
    is_pagination,
    series,
    sitemap_locations,
)
from kuaizhao.crawler.middlewares import is_kept_type
from kuaizhao.crawler.safety import OutletMap, is_public
from kuaizhao.lib.outlets import Outlet

BASE = "http://news.example.cn/n1/2024/0506/"


def test_series_groups_pages_of_one_article_or_list() -> None:
    assert series(BASE + "c1-2.html") == (BASE.rstrip("/") + "/c1-2", 1)
    assert series(BASE + "c1-2_3.html")[1] == 3
    assert series(BASE + "c1-2.html?page=4")[1] == 4
    assert series("http://x.cn/guonei/")[0] == series("http://x.cn/guonei/index_2.html")[0]
    assert series("http://x.cn/list.php?cat=1&page=2")[0] != series("http://x.cn/list.php?cat=2")[0]


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("c1-2_2.html", True),
        ("c1-2_12.html", True),
        ("c1-2.html?page=2", True),
        ("c1-2.html", False),
        ("c1-3_2.html", False),
        ("../c1-2_2.html", False),
    ],
)
def test_continuation_pages(link: str, expected: bool) -> None:
    assert is_continuation(BASE + link, BASE + "c1-2.html") is expected


def test_pagination_by_url_or_text() -> None:
    page = "http://x.cn/guonei/"
    assert is_pagination("http://x.cn/guonei/index_2.html", page, "2")
    assert is_pagination("http://x.cn/guonei/more.html", page, " 下一页 ")
    assert is_pagination("http://x.cn/guonei/list?p=3", "http://x.cn/guonei/list", "3")
    assert not is_pagination("http://x.cn/guoji/", page, "国际")
    assert not is_pagination(page, page, "下一页")


def test_absolute_and_page_like() -> None:
    assert absolute(BASE, "c1-2.html#top") == BASE + "c1-2.html"
    assert absolute(BASE, "javascript:void(0)") is None
    assert absolute(BASE, "mailto:a@b.cn") is None
    assert absolute(BASE, "ftp://x.cn/a") is None
    assert absolute(BASE, "  ") is None
    assert not is_page_like(BASE + "video.MP4")
    assert is_page_like(BASE + "c1-2.shtml") and is_page_like("http://x.cn/guonei/")


def test_feed_links_rss_and_atom() -> None:
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><link>http://x.cn/</link>
      <item><link>http://x.cn/a.html</link></item><item><link> /b.html </link></item>
      </channel></rss>"""
    assert feed_links(rss, "http://x.cn/rss.xml") == ["http://x.cn/a.html", "http://x.cn/b.html"]
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><link href="http://x.cn/"/>
      <entry><link rel="alternate" href="http://x.cn/c.html"/><link rel="self" href="/s"/></entry>
      <entry><link href="d.html"/></entry></feed>"""
    assert feed_links(atom, "http://x.cn/feeds/atom") == [
        "http://x.cn/c.html",
        "http://x.cn/feeds/d.html",
    ]
    assert feed_links(b"not xml at all <<<", "http://x.cn/") == []


def test_feed_parser_does_not_expand_entities() -> None:
    xxe = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>
      <rss><channel><item><link>http://x.cn/&e;</link></item></channel></rss>"""
    assert all("root" not in url for url in feed_links(xxe, "http://x.cn/"))


def test_sitemaps() -> None:
    index = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>http://x.cn/s1.xml</loc></sitemap></sitemapindex>"""
    assert sitemap_locations(index, "http://x.cn/") == ("sitemapindex", ["http://x.cn/s1.xml"])
    news = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
      xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>http://x.cn/a.html</loc>
      <news:news><news:title>t</news:title></news:news></url></urlset>"""
    assert sitemap_locations(news, "http://x.cn/") == ("urlset", ["http://x.cn/a.html"])
    assert sitemap_locations(b"", "http://x.cn/")[1] == []


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("224.0.0.1", False),
    ],
)
def test_is_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


def outlet(slug: str, base: str, allow_private: bool) -> Outlet:
    return Outlet(
        slug=slug,
        name=slug,
        home=base,
        scope=(base,),
        start_urls=(base,),
        article_patterns=(re.compile(r"c\d+\.html$"),),
        allow_private=allow_private,
    )


def test_outlet_map_for_robots_requests() -> None:
    shared = OutletMap(
        [outlet("a", "http://127.0.0.1:8001/a/", True), outlet("b", "http://10.0.0.9/b/", False)]
    )
    assert shared.allows_private("http://127.0.0.1:8001/robots.txt", None)
    assert not shared.allows_private("http://10.0.0.9/robots.txt", None)
    assert not shared.allows_private("http://10.0.0.9/b/x", "b")
    robots_outlet = shared.for_request("http://127.0.0.1:8001/robots.txt", None)
    assert robots_outlet is not None and robots_outlet.slug == "a"
    image_outlet = shared.for_request("http://cdn.example/img.png", "b")
    assert image_outlet is not None and image_outlet.slug == "b"
    # an image host first reached by an allow_private outlet may serve its robots.txt too
    assert not shared.allows_private("http://127.0.0.1:9999/robots.txt", None)
    assert shared.allows_private("http://127.0.0.1:9999/img.png", "a")
    assert shared.allows_private("http://127.0.0.1:9999/robots.txt", None)


@pytest.mark.parametrize(
    ("content_type", "kind", "kept"),
    [
        ("text/html", "page", True),
        ("application/xhtml+xml", "article", True),
        ("application/rss+xml", "feed", True),
        ("text/xml", "sitemap", True),
        ("text/plain", None, True),
        ("image/webp", "image", True),
        ("", "page", True),
        ("application/x-gzip", "sitemap", True),
        ("application/octet-stream", "image", True),
        ("application/octet-stream", "article", False),
        ("video/mp4", "page", False),
        ("application/pdf", "article", False),
        ("application/javascript", "page", False),
    ],
)
def test_kept_content_types(content_type: str, kind: str | None, kept: bool) -> None:
    assert is_kept_type(content_type, kind) is kept
