from __future__ import annotations

import gzip
import re
import xml.etree.ElementTree as ET
from html import unescape
from typing import Any
from urllib.parse import urljoin

from kuaizhao.sampleweb.sites import SITE_BY_SLUG, SITES
from kuaizhao.sampleweb.text import CATEGORIES

from .conftest import Client

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def _text(raw: bytes, encoding: str) -> str:
    return unescape(raw.decode(encoding))


def test_pages_show_what_the_manifest_says(client: Client, manifest: list[dict[str, Any]]) -> None:
    for entry in manifest:
        pages = [_text(client.get(u), entry["encoding"]) for u in entry["pages"]]
        joined = "\n".join(pages)
        for page in pages:
            assert entry["title"] in page
            assert entry["source"] in page
        for para in entry["body"]:
            assert f">{para}<" in joined, (entry["id"], para)
        if entry["editor"]:
            assert entry["editor"] in joined
        if entry["author"]:
            for name in entry["author"].split("、"):
                assert name in joined
        if entry["repost_from"]:
            assert f"本文转自:{entry['repost_from']}" in joined
        for img in entry["images"]:
            assert img["caption"] in entry["body"]
            data = client.get(img["src"])
            assert data.startswith(b"\x89PNG")
        declared = re.search(r'charset="?([\w-]+)', pages[0])
        assert declared and declared[1] == entry["declared_charset"]


def test_image_src_forms_resolve(client: Client, manifest: list[dict[str, Any]]) -> None:
    forms = set()
    for entry in manifest:
        if not entry["images"]:
            continue
        html = client.get(entry["pages"][0]).decode(entry["encoding"])
        for src in re.findall(r'<img src="([^"]+)"', html):
            if "/ad/" in src:
                continue
            forms.add("abs" if src.startswith("http") else "root" if src.startswith("/") else "rel")
            absolute = urljoin(entry["pages"][0], src)
            assert any(absolute == i["src"] for e in manifest for i in e["images"])
    assert forms == {"abs", "root", "rel"}


def test_declared_charset_differs_from_real_one(
    client: Client, manifest: list[dict[str, Any]]
) -> None:
    entry = next(e for e in manifest if e["outlet"] == "lanshan")
    status, headers, raw = client.request(entry["url"])
    assert status == 200
    assert headers["content-type"] == "text/html"
    assert b"charset=gb2312" in raw
    assert entry["title"] in raw.decode("utf-8")
    gbk = next(e for e in manifest if e["encoding"] == "gbk")
    _, headers, raw = client.request(gbk["url"])
    assert headers["content-type"] == "text/html; charset=gbk"
    assert gbk["title"] in raw.decode("gbk")
    raw.decode("gbk")


def test_pagination_reaches_every_article(client: Client, manifest: list[dict[str, Any]]) -> None:
    found: set[str] = set()
    for site in SITES:
        for cat in range(len(CATEGORIES)):
            url = f"{client.base}/{site.slug}/{site.list_path(cat)}"
            seen_pages = 0
            while url:
                html = client.get(url).decode(site.encoding)
                seen_pages += 1
                for href in re.findall(r'<li><a href="([^"]+)"', html):
                    found.add(urljoin(url, href))
                nxt = re.search(r'<a href="([^"]+)" class="next">下一页</a>', html)
                url = urljoin(url, nxt[1]) if nxt else ""
            assert seen_pages >= 1
    assert {e["url"] for e in manifest} <= found
    multi = [e for e in manifest if len(e["pages"]) > 1]
    html = client.get(multi[0]["url"]).decode(multi[0]["encoding"])
    assert "下一页" in html


def test_sitemaps_cover_every_article(client: Client, manifest: list[dict[str, Any]]) -> None:
    robots = client.get("/robots.txt").decode()
    maps = re.findall(r"^Sitemap: (\S+)$", robots, re.M)
    assert len(maps) == len(SITES)
    locs: set[str] = set()
    news = 0
    for index in maps:
        root = ET.fromstring(client.get(index))
        assert root.tag == SM + "sitemapindex"
        for loc in root.iter(SM + "loc"):
            part = ET.fromstring(client.get(loc.text or ""))
            locs.update(x.text or "" for x in part.iter(SM + "loc"))
            news += len(part.findall(".//{http://www.google.com/schemas/sitemap-news/0.9}news"))
    assert {e["url"] for e in manifest} <= locs
    assert news > 0


def test_feeds_list_recent_articles(client: Client, manifest: list[dict[str, Any]]) -> None:
    urls = {e["url"]: e for e in manifest}
    for site in SITES:
        for ch in site.channels:
            root = ET.fromstring(client.get(f"/{site.slug}/rss/{ch}.xml"))
            items = root.findall("./channel/item")
            assert items
            for item in items:
                entry = urls[item.findtext("link") or ""]
                assert item.findtext("title") == entry["title"]


def test_robots_disallows_linked_paths(client: Client, manifest: list[dict[str, Any]]) -> None:
    robots = client.get("/robots.txt").decode()
    disallowed = re.findall(r"^Disallow: (\S+)$", robots, re.M)
    for site in SITES:
        entry = next(e for e in manifest if e["outlet"] == site.slug)
        html = client.get(entry["url"]).decode(site.encoding)
        hrefs = {urljoin(entry["url"], h) for h in re.findall(r'href="([^"]+)"', html)}
        blocked = [h for h in hrefs if any(h[len(client.base) :].startswith(d) for d in disallowed)]
        assert blocked, site.slug
    before = client.json("/_control/stats")[1]["disallowed"]
    status, _, _ = client.request(blocked[0])
    assert status == 200
    assert client.json("/_control/stats")[1]["disallowed"] == before + 1


def test_home_pages_and_gzip(client: Client) -> None:
    for site in SITES:
        status, headers, raw = client.request(f"/{site.slug}/", headers={"Accept-Encoding": "gzip"})
        assert status == 200
        assert headers["content-encoding"] == "gzip"
        html = gzip.decompress(raw).decode(site.encoding)
        assert site.name in html
        assert int(headers["content-length"]) == len(raw)
    status, headers, raw = client.request("/huaxia/")
    assert "content-encoding" not in headers and SITE_BY_SLUG["huaxia"].name in raw.decode()
