"""Check the extractor against every article of the local sample web (its manifest is truth)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
import unicodedata
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from kuaizhao.extract import Article, extract, merge_pages
from kuaizhao.lib.dates import SHANGHAI

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("kuaizhao.sampleweb") is None, reason="kuaizhao.sampleweb missing"
)
ARTICLES = int(os.environ.get("KZ_SAMPLEWEB_ARTICLES", "120"))


def _key(text: str | None) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split())


@pytest.fixture(scope="module")
def sampleweb() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kuaizhao.sampleweb", "--port", "0", "--articles", str(ARTICLES)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = None
        deadline = time.monotonic() + 30
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            m = re.search(r"http://[\w.\-]+:\d+", line)
            if m:
                base = m.group(0)
                break
        if base is None:
            pytest.skip("sample web did not start")
        yield base
    finally:
        if proc.stdout is not None:
            proc.stdout.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _get(url: str) -> tuple[bytes, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.read(), {k.lower(): v for k, v in resp.headers.items()}


def _manifest(base: str) -> list[dict[str, Any]]:
    body, _ = _get(base + "/_control/manifest")
    articles: list[dict[str, Any]] = json.loads(body)["articles"]
    return articles


def _fetch(item: dict[str, Any]) -> Article:
    urls = item.get("pages") or [item["url"]]
    pages = []
    for url in urls:
        body, headers = _get(url)
        pages.append(extract(body, url, headers, captured_at=datetime.now(SHANGHAI)))
    return merge_pages(pages)


def _time_key(value: str | None) -> str | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(SHANGHAI).replace(tzinfo=None)
    return parsed.isoformat()[:16]


def problems(item: dict[str, Any], article: Article) -> list[str]:
    found: list[str] = []
    for name in ("title", "source", "editor", "repost_from"):
        if name in item and _key(item[name]) != _key(getattr(article, name)):
            found.append(f"{name}: {getattr(article, name)!r} != {item[name]!r}")
    got_time = None
    if article.publish_time is not None:
        got_time = article.publish_time.astimezone(SHANGHAI).replace(tzinfo=None).isoformat()[:16]
    if _time_key(item.get("published_at")) != got_time:
        found.append(f"time: {got_time} != {item.get('published_at')}")
    want = [_key(p) for p in item.get("body", []) if _key(p)]
    got = [_key(b.text) for b in article.blocks if b.text and _key(b.text)]
    if want != got:
        missing = [p[:30] for p in want if p not in got][:3]
        extra = [p[:30] for p in got if p not in want][:3]
        found.append(f"body: missing {missing} extra {extra}")
    want_images = [img.get("src") for img in item.get("images", []) if isinstance(img, dict)]
    if want_images and [img.src for img in article.images] != want_images:
        found.append(f"images: {[i.src for i in article.images]} != {want_images}")
    want_captions = [_key(img.get("caption")) for img in item.get("images", [])]
    if want_images and [_key(img.caption) for img in article.images] != want_captions:
        found.append(f"captions: {[i.caption for i in article.images]}")
    if not article.is_article:
        found.append("is_article False")
    return found


def test_every_sample_article_matches_manifest(sampleweb: str) -> None:
    articles = _manifest(sampleweb)
    assert articles
    assert any(len(item.get("pages") or []) > 1 for item in articles) or len(articles) < 20
    failures: dict[str, list[str]] = {}
    for item in articles:
        article = _fetch(item)
        issues = problems(item, article)
        if issues:
            failures[item["url"]] = issues
    report = "\n".join(f"{url}\n  " + "\n  ".join(v) for url, v in list(failures.items())[:15])
    assert not failures, f"{len(failures)}/{len(articles)} articles differ:\n{report}"
