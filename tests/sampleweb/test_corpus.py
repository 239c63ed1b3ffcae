from __future__ import annotations

import time
from collections import Counter, defaultdict

from kuaizhao.sampleweb.corpus import END, START, Corpus
from kuaizhao.sampleweb.sites import SITES
from kuaizhao.sampleweb.text import CATEGORIES, check_gb2312


def test_same_seed_same_corpus() -> None:
    a, b = Corpus(360, 1).manifest(), Corpus(360, 1).manifest()
    assert a == b
    c = Corpus(360, 2).manifest()
    assert [x["title"] for x in a["articles"]] != [x["title"] for x in c["articles"]]


def test_default_corpus_covers_outlets_categories_and_encodings() -> None:
    corpus = Corpus()
    entries = corpus.manifest()["articles"]
    assert len(entries) == 360
    assert len({e["id"] for e in entries}) == 360
    assert len({e["url"] for e in entries}) == 360
    pairs = {(e["outlet"], e["category"]) for e in entries}
    assert pairs == {(s.slug, c) for s in SITES for c in CATEGORIES}
    encodings = {e["encoding"] for e in entries}
    assert {"utf-8", "gbk", "gb2312"} <= encodings
    assert any(e["encoding"] != e["declared_charset"] for e in entries)
    for e in entries:
        assert e["published_at"].endswith("+08:00")
        assert "2024-01-01" <= e["published_at"][:10] <= "2026-01-01"
        assert e["body"] and e["title"]
        assert len(e["pages"]) >= 1 and e["pages"][0] == e["url"]
    assert sum(len(e["pages"]) > 1 for e in entries) > 10
    assert {e["outlet"] for e in entries if len(e["pages"]) > 1} >= {"huaxia", "jiangbei"}


def test_syndicated_copies_share_the_body_and_name_the_origin() -> None:
    entries = Corpus().manifest()["articles"]
    stories: dict[str, list[dict[str, object]]] = defaultdict(list)
    for e in entries:
        stories[e["story"]].append(e)
    shared = [group for group in stories.values() if len(group) > 1]
    assert len(shared) >= 10
    for group in shared:
        first = min(group, key=lambda e: str(e["published_at"]))
        for copy in group:
            assert copy["body"] == first["body"]
            assert copy["title"] == first["title"]
            assert copy["source"] == first["outlet_name"]
    reposts = [e for e in entries if e["outlet"] == "kuaixun"]
    assert reposts and all(str(e["repost_from"]).startswith(str(e["source"])) for e in reposts)


def test_recurring_topics_across_outlets_and_time() -> None:
    entries = Corpus().manifest()["articles"]
    hits = [e for e in entries if "山西中部城市群" in e["title"] + "".join(e["body"])]
    assert len({e["outlet"] for e in hits}) >= 3
    assert len({e["published_at"][:7] for e in hits}) >= 3


def test_vocabulary_fits_gb2312() -> None:
    assert check_gb2312() == []


def test_large_corpus_builds_fast() -> None:
    t0 = time.perf_counter()
    corpus = Corpus(100_000, 1)
    elapsed = time.perf_counter() - t0
    assert len(corpus.articles) == 100_000
    assert elapsed < 10
    assert corpus.articles[0].ts >= START and corpus.articles[-1].ts <= END + 86400
    counts = Counter(a.site for a in corpus.articles)
    assert len(counts) == len(SITES)
    entry = corpus.manifest_entry(corpus.articles[-1])
    assert entry["body"]
