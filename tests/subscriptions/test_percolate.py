"""The percolator finds exactly the follows a scan of every follow finds."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kuaizhao.search.query import QueryError
from kuaizhao.subscriptions.percolate import Doc, Percolator, Spec, compile_query, naive, spec

WORDS = [
    "山西",
    "城市群",
    "高铁",
    "动车",
    "开通",
    "太原",
    "国际",
    "航线",
    "５Ｇ",
    "5g",
    "經濟",
    "经济",
]
CHARS = "山西城市群高铁动车开通太原国际航线经济发展会议５Ｇ5gAB 。"
CATEGORIES = ["国内", "国际", "财经"]
OUTLETS = ["a", "b", "c"]


def query_text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(0, 3)):
        word = rng.choice(WORDS) if rng.random() < 0.8 else rng.choice(CHARS.strip())
        roll = rng.random()
        if roll < 0.15:
            parts.append(f"-{word}")
        elif roll < 0.3 and parts:
            parts.append(f"OR {word}")
        elif roll < 0.4:
            parts.append(f'"{word} {rng.choice(WORDS)}"')
        else:
            parts.append(word)
    if rng.random() < 0.2:
        parts.append(f"category:{rng.choice(CATEGORIES)}")
    if rng.random() < 0.1:
        parts.append(f"source:{rng.choice(['日报', '新闻'])}")
    if rng.random() < 0.1:
        parts.append(rng.choice(["after:2024-03-01", "before:2024-03-02"]))
    return " ".join(parts)


def random_specs(rng: random.Random, n: int) -> dict[int, Spec]:
    specs: dict[int, Spec] = {}
    for follow in range(1, n + 1):
        roll = rng.random()
        if roll < 0.15:
            specs[follow] = Spec("category", rng.choice(CATEGORIES))
        elif roll < 0.3:
            specs[follow] = Spec("outlet", rng.choice(OUTLETS))
        elif roll < 0.35:
            specs[follow] = Spec("story", str(rng.randint(1, 5)))
        else:
            try:
                specs[follow] = spec("query", query_text(rng))
            except QueryError:
                continue
    return specs


def random_doc(rng: random.Random) -> Doc:
    def text(n: int) -> str:
        return "".join(
            rng.choice(WORDS) if rng.random() < 0.3 else rng.choice(CHARS) for _ in range(n)
        )

    return Doc.of(
        text(rng.randint(1, 12)),
        text(rng.randint(0, 60)),
        category=rng.choice(CATEGORIES),
        outlet=rng.choice(OUTLETS),
        source=rng.choice(["测试日报", "新闻网", ""]),
        published_at=rng.choice(
            [None, datetime(2024, 2, 29, 17, tzinfo=UTC), datetime(2024, 3, 1, 1, tzinfo=UTC)]
        ),
        stories=rng.sample(range(1, 7), rng.randint(1, 2)),
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32))
def test_the_index_agrees_with_the_scan(seed: int) -> None:
    rng = random.Random(seed)
    specs = random_specs(rng, rng.randint(1, 80))
    perc = Percolator(rebuild_after=rng.choice([0, 5, 1000]))
    for follow, s in specs.items():
        perc.add(follow, s)
    removed = rng.sample(sorted(specs), k=len(specs) // 5)
    for follow in removed:
        perc.remove(follow)
        del specs[follow]
    for _ in range(20):
        doc = random_doc(rng)
        assert perc.match(doc) == naive(specs, doc)
    perc.rebuild()  # keys chosen again from what was seen
    for follow in range(1000, 1000 + len(specs) // 3):  # more readers of the same queries
        specs[follow] = specs[rng.choice(sorted(specs))]
        perc.add(follow, specs[follow])
    for follow in rng.sample(sorted(specs), k=len(specs) // 4):
        perc.remove(follow)
        del specs[follow]
    for _ in range(20):
        doc = random_doc(rng)
        assert perc.match(doc) == naive(specs, doc)


def test_terms_match_folded_text_but_never_across_title_and_body() -> None:
    perc = Percolator()
    perc.add(1, spec("query", "５g 經濟"))
    perc.add(2, spec("query", '"标题正文"'))
    perc.rebuild()
    doc = Doc.of("5G 带动经济", "正文")
    assert perc.match(doc) == {1}
    assert perc.match(Doc.of("标题", "正文")) == set()


def test_a_query_that_can_never_match_is_refused() -> None:
    for text in ("", "   ", "-排除"):
        with pytest.raises(QueryError):
            compile_query(text)
    assert compile_query("category:国内").category == "国内"
