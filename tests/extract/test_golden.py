"""Golden pages: ``testdata/**/<case>.html`` against its sibling ``<case>.expected.json``.

``testdata/sampleweb/`` holds one page per sample-web outlet template, rendered by
``tests/extract/golden_sampleweb.py`` with the sample web's manifest as the expectation; the
pages directly in ``testdata/`` are hand-made edge cases (no date, two 来源, caption-only
paragraphs, a data table, a hostile page, …).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from kuaizhao.extract import extract

DATA = Path(__file__).parent / "testdata"
CASES = sorted(str(p.relative_to(DATA).with_suffix("")) for p in DATA.rglob("*.html"))
CAPTURED = "2023-06-01T00:00:00+08:00"
UNSAFE = re.compile(r"<script|<style|<iframe|<object|<svg|javascript:|expression\(|\son\w+=", re.I)


def load(case: str) -> tuple[bytes, dict[str, object]]:
    expected = json.loads((DATA / f"{case}.expected.json").read_text(encoding="utf-8"))
    return (DATA / f"{case}.html").read_bytes(), expected


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    body, expected = load(case)
    url = str(expected.get("url", f"http://news.example.cn/gn/{Path(case).name}.html"))
    headers = {"Content-Type": str(expected["content_type"])} if "content_type" in expected else {}
    captured = datetime.fromisoformat(str(expected.get("captured_at", CAPTURED)))
    article = extract(body, url, headers, captured_at=captured)
    assert article.is_article
    assert article.title == expected["title"]
    published = expected["publish_time"]
    assert article.publish_time == (datetime.fromisoformat(str(published)) if published else None)
    for name in ("source", "author", "editor", "repost_from", "category_hint"):
        if name in expected:
            assert getattr(article, name) == expected[name], name
    assert [b.text for b in article.blocks if b.text] == expected["body"]
    if "kinds" in expected:
        assert [b.kind for b in article.blocks] == expected["kinds"]
    if "images" in expected:
        got = [{"src": i.src, "caption": i.caption, "alt": i.alt} for i in article.images]
        assert got == expected["images"]
    assert article.body_text == "\n".join(expected["body"])  # type: ignore[arg-type]
    assert not UNSAFE.search(article.body_html)


def test_every_sample_outlet_template_has_a_golden_page() -> None:
    from kuaizhao.sampleweb.corpus import Corpus

    outlets = {item["outlet"] for item in Corpus(articles=30, seed=1).manifest()["articles"]}
    assert outlets <= {Path(c).name for c in CASES if c.startswith("sampleweb/")}


def test_hostile_page_keeps_the_text_and_nothing_active() -> None:
    body, _ = load("hostile")
    article = extract(body, "http://news.example.cn/gn/hostile.html")
    html = article.body_html
    for word in ("alert(", "onerror", "onload", "onclick", "expression", "behavior", "javascript"):
        assert word not in html.replace("alert(12)", ""), word
    assert "注入的段落" not in article.body_text  # document.write from a script never runs
    assert "&lt;script&gt;" in html  # text that shows markup stays text
    assert [i.src for i in article.images] == ["http://news.example.cn/img/2023/05/keji.jpg"]


def test_data_table_rendered_as_a_table() -> None:
    body, _ = load("data_table")
    article = extract(body, "http://news.example.cn/gn/data_table.html")
    assert "<table><tbody><tr><td>指标</td>" in article.body_html
    assert "社会消费品零售总额\t301.8\t6.9" in article.body_text


def test_related_dates_never_give_a_page_without_one_a_time() -> None:
    body, _ = load("no_date")
    article = extract(body, "http://news.example.cn/gn/no_date.html")
    assert article.publish_time is None
    assert "no publish time" in article.warnings
