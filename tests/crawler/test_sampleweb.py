"""Crawl the project's sample web and check that every manifest page and image is archived."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from kuaizhao.warc import iter_captures, list_warc_files
from tests.crawler.test_crawl import run_crawler

server = pytest.importorskip("kuaizhao.sampleweb.server", reason="sample web not available yet")
config = pytest.importorskip("kuaizhao.sampleweb.config", reason="sample web not available yet")


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


@pytest.mark.e2e
def test_crawl_of_sample_web_archives_every_page_and_image(tmp_path: Path) -> None:
    web = server.SampleWeb(articles=120, seed=3).start()
    try:
        config.write_outlets(tmp_path / "outlets", web.url)
        stats = run_crawler(tmp_path / "outlets", tmp_path / "warc")
        manifest = get_json(web.url + "_control/manifest")
        web_stats = get_json(web.url + "_control/stats")
    finally:
        web.stop()
    urls = {c.url for p in list_warc_files(tmp_path / "warc") for c in iter_captures(p)}
    articles = manifest["articles"]
    assert articles
    missing_pages = [page for art in articles for page in art["pages"] if page not in urls]
    missing_images = [i["src"] for art in articles for i in art["images"] if i["src"] not in urls]
    assert missing_pages == []
    assert missing_images == []
    assert web_stats["disallowed"] == 0
    assert stats["articles"] >= len(articles)
    assert not list((tmp_path / "warc").glob("*.open"))
