"""Golden pages: ``testdata/<case>.html`` against ``testdata/<case>.expected.json``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from kuaizhao.extract import extract

DATA = Path(__file__).parent / "testdata"
CASES = sorted(p.stem for p in DATA.glob("*.html"))
CAPTURED = datetime.fromisoformat("2023-06-01T00:00:00+08:00")


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    expected = json.loads((DATA / f"{case}.expected.json").read_text(encoding="utf-8"))
    url = expected.get("url", f"http://news.example.cn/gn/{case}.html")
    article = extract((DATA / f"{case}.html").read_bytes(), url, captured_at=CAPTURED)
    assert article.is_article
    assert article.title == expected["title"]
    assert article.publish_time == datetime.fromisoformat(expected["publish_time"])
    for name in ("source", "author", "editor", "repost_from", "category_hint"):
        if name in expected:
            assert getattr(article, name) == expected[name], name
    assert [b.text for b in article.blocks if b.text] == expected["body"]
    if "kinds" in expected:
        assert [b.kind for b in article.blocks] == expected["kinds"]
    if "images" in expected:
        got = [{"src": i.src, "caption": i.caption, "alt": i.alt} for i in article.images]
        assert got == expected["images"]
    assert article.body_text == "\n".join(expected["body"])
