"""``reindex`` rebuilds the catalogue from the WARC files alone, and rebuilds the same one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from kuaizhao.archive import searching
from kuaizhao.archive.ingest import ingest, rebuild, reset
from kuaizhao.archive.models import Article, ArticleVersion, Capture
from kuaizhao.lib.outlets import Outlet
from kuaizhao.search.query import parse
from kuaizhao.warc.records import sha1_digest
from kuaizhao.warc.writer import PriorCapture, WarcWriter
from tests.factories import TINY_PNG, Page, write_page, write_warc

pytestmark = pytest.mark.django_db

BASE = "http://news.test.example"
DAY = timedelta(days=1)
START = datetime(2024, 3, 5, 6, 0, tzinfo=UTC)
QUERIES = ("城市群", '"城际公交"', "航线", "推进会 山西", "更新")


def catalogue() -> dict[str, Any]:
    """Everything derived, keyed by what survives a rebuild (URLs and WARC positions, not ids)."""
    articles = sorted(
        Article.objects.values_list(
            "surt", "url", "title", "body_text", "published_at", "category", "source",
            "content_hash", "key_phrases", "first_captured_at", "last_captured_at",
            "capture__warc_file", "capture__offset",
        )
    )  # fmt: skip
    versions = sorted(
        ArticleVersion.objects.values_list(
            "article__surt", "captured_at", "title", "body_text", "content_hash",
            "capture__warc_file", "capture__offset",
        )
    )  # fmt: skip
    surts = dict(Article.objects.values_list("id", "surt"))
    results = {}
    for text in QUERIES:
        for order in ("relevance", "time"):
            page = searching.search(parse(text), order=order)  # type: ignore[arg-type]
            results[text, order] = [(surts[h.article_id], h.title, h.snippet) for h in page.hits]
    related = {}
    for article in Article.objects.all():
        phrase, hits = searching.related(article)
        related[article.surt] = (phrase, [surts[h.article_id] for h in hits])
    return {"articles": articles, "versions": versions, "search": results, "related": related}


def test_reindex_reproduces_articles_versions_and_search_results(
    home: Path, outlet: Outlet, monkeypatch: pytest.MonkeyPatch
):
    warc = home / "warc"
    first = Page(f"{BASE}/gn/2024/0301/c101.html")
    bus = Page(
        f"{BASE}/gn/2024/0302/c102.html",
        title="五市城际公交开通",
        paragraphs=("山西中部城市群首批城际公交线路今天开通，市民乘车更加方便，票价统一。",) * 3,
    )
    flights = Page(
        f"{BASE}/gj/2024/0303/c103.html",
        title="国际航线恢复运营",
        paragraphs=("多条国际航线本周恢复运营，旅客出行更加便利，航空公司增加了航班密度。",) * 3,
    )
    # the newest crawl arrives first, older ones later: versions still follow capture time
    write_warc(
        warc, [Page(first.url, title="推进会举行（更新）"), flights], captured_at=START + 3 * DAY
    )
    ingest(warc, [outlet])
    write_warc(warc, [first, bus], images={f"{BASE}/a.png": TINY_PNG}, captured_at=START)
    body = bus.html().encode()
    known = {(bus.url, sha1_digest(body)): PriorCapture(bus.url, START)}
    with WarcWriter(warc, known_digests=known) as writer:  # an unchanged re-crawl: revisits
        write_page(writer, bus.url, body, START + DAY)
        write_page(writer, bus.url, body, START + 2 * DAY)
    ingest(warc, [outlet])
    changed = Page(
        bus.url, title=bus.title, paragraphs=(*bus.paragraphs, "记者另悉，线路还将延伸。")
    )
    write_warc(warc, [changed], captured_at=START + 4 * DAY)
    ingest(warc, [outlet])

    kinds = Capture.objects.filter(url=bus.url).values_list("record_type", flat=True)
    assert sorted(kinds) == ["response", "response", "revisit", "revisit"]
    before = catalogue()
    assert len(before["articles"]) == 3
    assert len(before["versions"]) == 5
    assert any(before["search"].values())

    reset()
    assert not Article.objects.exists() and not ArticleVersion.objects.exists()
    ingest(warc, [outlet])
    assert catalogue() == before

    monkeypatch.setenv("KUAIZHAO_INDEX_MERGE_SECONDS", "0")  # only the rebuild's own merge
    rebuild(warc, [outlet])  # what `kuaizhao reindex` runs
    assert catalogue() == before
    if connection.vendor == "sqlite":  # its index, all new, merged into one segment a table
        assert all(sum(levels) == 1 for levels in searching.backend().segments().values())
