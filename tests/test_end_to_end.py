"""The whole pipeline as a user runs it: sample web → `kuaizhao crawl --once` → `kuaizhao serve`.

Everything runs in real subprocesses on loopback ports; the sample web's manifest is the
ground truth the snapshot pages are checked against.
"""

from __future__ import annotations

import html
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

pytestmark = pytest.mark.e2e
SHANGHAI = ZoneInfo("Asia/Shanghai")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return str(response.read().decode("utf-8"))


def plain(page: str) -> str:
    """The page's text: tags dropped, entities decoded, whitespace removed."""
    return re.sub(r"\s+", "", html.unescape(re.sub(r"<[^>]+>", "", page)))


def wait_for(url: str, process: subprocess.Popen[Any]) -> None:
    for _ in range(200):
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("home")
    env = {**os.environ, "KUAIZHAO_HOME": str(home)}
    sample = subprocess.Popen(
        [sys.executable, "-m", "kuaizhao.sampleweb", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    servers: list[subprocess.Popen[Any]] = [sample]
    try:
        assert sample.stdout is not None
        base = re.search(r"(http://\S+/)", sample.stdout.readline())
        assert base, "the sample web did not print its URL"
        sample_url = base.group(1)
        port = sample_url.rsplit(":", 1)[1].strip("/")
        outlets = home / "outlets"
        subprocess.run(
            [sys.executable, "-m", "kuaizhao.sampleweb", "--port", port,
             "--write-outlets", str(outlets)],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        crawl = subprocess.run(
            [sys.executable, "-m", "kuaizhao", "crawl", "--once", "--outlets", str(outlets)],
            env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert crawl.returncode == 0, crawl.stderr[-3000:]
        site_port = free_port()
        serve = subprocess.Popen(
            [sys.executable, "-m", "kuaizhao", "serve", "--port", str(site_port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        servers.append(serve)
        site_url = f"http://127.0.0.1:{site_port}"
        wait_for(site_url + "/", serve)
        manifest = json.loads(fetch(sample_url + "_control/manifest"))["articles"]
        yield {"url": site_url, "sample": sample_url, "manifest": manifest, "home": home}
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
        assert sample.stdout is not None
        sample.stdout.close()


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
