from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kuaizhao.archive.ingest import ingest
from kuaizhao.lib.outlets import Outlet
from kuaizhao.warc.records import sha1_digest
from kuaizhao.warc.writer import PriorCapture, WarcWriter
from tests.factories import TINY_PNG, Page, write_page

BASE = "http://news.test.example"
ARTICLE = f"{BASE}/gn/2024/0301/c101.html"
OTHER = f"{BASE}/gj/2024/0303/c103.html"
SUB = "http://m.sub.news.test.example/gn/2024/0301/c201.html"
IMG = "http://img.test.example/2024/pic.png"
T1 = datetime(2024, 3, 5, 6, 0, tzinfo=UTC)
T2 = datetime(2024, 3, 6, 6, 0, tzinfo=UTC)
T3 = datetime(2024, 4, 1, 12, 30, 15, tzinfo=UTC)


@dataclass
class Archive:
    home: Path


@pytest.fixture
def archive(home: Path, outlet: Outlet) -> Archive:
    """ARTICLE captured three times (the second a revisit, the third changed), OTHER once,
    an image, a page on a subdomain."""
    first = Page(ARTICLE, images=[(IMG, "与会人员参观展览。测试日报 李四摄")])
    body = first.html().encode()
    with WarcWriter(home / "warc") as writer:
        write_page(writer, ARTICLE, body, T1)
        write_page(writer, IMG, TINY_PNG, T1, mime="image/png")
        write_page(writer, OTHER, Page(OTHER, title="国际航线恢复运营").html().encode(), T1)
        write_page(writer, SUB, Page(SUB, title="子域名上的报道").html().encode(), T1)
    known = {(ARTICLE, sha1_digest(body)): PriorCapture(ARTICLE, T1)}
    with WarcWriter(home / "warc", known_digests=known) as writer:
        write_page(writer, ARTICLE, body, T2)
        changed = Page(ARTICLE, title="推进会举行（更新）", images=first.images)
        write_page(writer, ARTICLE, changed.html().encode(), T3)
    ingest(home / "warc", [outlet])
    return Archive(home)
