"""The whole pipeline as a user runs it: sample web → `kuaizhao crawl --once` → `kuaizhao serve`.

Everything runs in real subprocesses on loopback ports; the sample web's manifest is the
ground truth the snapshot pages are checked against.
"""

from __future__ import annotations

import html
import json
import re
import urllib.parse
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.live_site import crawled_site, fetch

pytestmark = pytest.mark.e2e
SHANGHAI = ZoneInfo("Asia/Shanghai")


def plain(page: str) -> str:
    """The page's text: tags dropped, entities decoded, whitespace removed."""
    return re.sub(r"\s+", "", html.unescape(re.sub(r"<[^>]+>", "", page)))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with crawled_site(tmp_path_factory.mktemp("home")) as site:
        yield site


def snapshot_url(site: dict[str, Any], article_url: str) -> str:
    page = fetch(site["url"] + "/lookup?" + urllib.parse.urlencode({"url": article_url}))
    match = re.search(r'href="(/s/\d+)"', page)
    assert match, f"no snapshot for {article_url}"
    return site["url"] + match.group(1)


def test_every_article_of_the_sample_web_has_a_snapshot(site):
    missing = []
    for entry in site["manifest"]:
        page = fetch(site["url"] + "/lookup?" + urllib.parse.urlencode({"url": entry["url"]}))
        if not re.search(r'href="/s/\d+"', page):
            missing.append(entry["url"])
    assert not missing


def pick(manifest: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A few articles of every outlet, including reposts and multi-page ones."""
    chosen: dict[str, dict[str, Any]] = {}
    for entry in manifest:
        keys = (
            entry["outlet"],
            f"repost-{bool(entry['repost_from'])}",
            f"pages-{len(entry['pages']) > 1}",
            f"images-{bool(entry['images'])}",
        )
        for key in keys:
            chosen.setdefault(key, entry)
    return list({e["url"]: e for e in chosen.values()}.values())


def test_snapshot_pages_match_what_the_sample_web_published(site):
    for entry in pick(site["manifest"]):
        page = fetch(snapshot_url(site, entry["url"]))
        text = plain(page)
        published = datetime.fromisoformat(entry["published_at"]).astimezone(SHANGHAI)
        assert f"<h1>{html.escape(entry['title'], quote=False)}</h1>" in page, entry["url"]
        assert f"类别:{entry['category']}" in text
        assert f"发布时间:{published:%Y-%m-%d%H:%M}" in text, entry["url"]
        assert f"来源:{entry['source']}".replace(" ", "") in text, entry["url"]
        if entry["repost_from"]:
            assert f"本文转自:{entry['repost_from']}".replace(" ", "") in text
        for paragraph in entry["body"]:
            assert re.sub(r"\s+", "", paragraph) in text, (entry["url"], paragraph)
        assert "快照生成时间:" in text and "本站未对信息做任何修改" in text
        assert f'href="{entry["url"]}"' in page  # 信息原文地址
        assert f"更多关于{entry['category']}的资讯" in text


def test_snapshot_pages_show_related_coverage(site):
    with_related = 0
    for entry in pick(site["manifest"]):
        page = fetch(snapshot_url(site, entry["url"]))
        if 'class="related"' in page:
            with_related += 1
            related = page.split('class="related"', 1)[1].split("</section>", 1)[0]
            assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", related)
            assert re.search(r'href="/s/\d+"', related)
    assert with_related >= len(pick(site["manifest"])) // 2


def test_category_pages_list_the_newest_articles_first(site):
    page = fetch(site["url"] + "/c/guonei/")
    times = re.findall(r'<time datetime="([^"]+)"', page)
    assert len(times) >= 10
    assert times == sorted(times, reverse=True)


def test_the_crawl_obeyed_robots_txt(site):
    stats = json.loads(fetch(site["sample"] + "_control/stats"))
    assert stats["robots"] >= 1
    assert stats["disallowed"] == 0
