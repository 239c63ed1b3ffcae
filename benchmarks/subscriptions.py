"""Matching at ingest: the percolator against a scan of every follow, on one set of follows
and articles.

Usage: .venv/bin/python benchmarks/subscriptions.py [--follows 100000] [--articles 1000]
       [--naive 200] [--seed 20261128]

The follows are 60% keyword queries, 20% categories and 20% outlets. Keyword queries use the
search query language: one to three words (an OR between two of them in 15%, an excluded word
in 10%, a category filter in 10%, a quoted two-word phrase in 5%), the words drawn from the
words of sample-web stories (kuaizhao.sampleweb.text: places, topics, officials' phrasing)
by a Zipf law over their frequency rank, so popular words are followed often, as readers do.
The articles are 1,000 other sample-web stories (title and body, 0.5 to 2 KB of text).

Per article the time is ``Doc.of`` (folding, done once for either method) plus the match;
the percolator runs on every article, the naive scan (``percolate.naive``: every follow
decided by substring search) on the first ``--naive`` articles, which must give the same
follows (checked). Each method runs in its own pass over the articles (so neither finds the
caches the other just emptied). Reported: median and 95th percentile per article, and their
ratio. On a shared machine the tail of single runs is mostly the scheduler's: the percolator
matches every article ``--repeat`` times in all and the best time is reported as well.

Keys are fitted as ``matching`` fits them: the index is built, learns which terms 200 other
stories contain (``Percolator.learn``), and files each query again.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import rjieba

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kuaizhao.lib.outlets import CATEGORIES as SITE_CATEGORIES
from kuaizhao.sampleweb.text import CATEGORIES, make_story
from kuaizhao.search.query import QueryError
from kuaizhao.subscriptions.percolate import Doc, Percolator, Spec, naive, spec

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "subscriptions.json"
OUTLETS = [f"outlet{i:02d}" for i in range(40)]
CATEGORY_NAMES = [name for _, name in SITE_CATEGORIES]
GENERIC = 0.10
WARM_UP = 200


def story_text(seed: int, n: int) -> tuple[str, str, str]:
    category = n % len(CATEGORIES)
    story = make_story(seed, n, category, 1 + n % 12, 1 + n % 28)
    return story.title, "\n".join(b.text for b in story.blocks), CATEGORIES[category]


def vocabulary(seed: int, stories: int = 1500, generic: float = GENERIC) -> list[str]:
    """Words of sample stories, most frequent first, without those in more than ``generic``
    of the stories (发展, 推进, 项目: nobody follows those)."""
    counts: Counter[str] = Counter()
    for n in range(stories):
        title, body, _ = story_text(seed, n)
        counts.update({w for w in rjieba.cut(title + body) if len(w) >= 2 and w.strip()})
    return [w for w, c in counts.most_common() if c <= generic * stories]


def zipf_pick(rng: random.Random, words: list[str]) -> str:
    """A word by Zipf's law over frequency rank (rank r with probability about 1/r)."""
    rank = int(len(words) ** rng.random())  # inverse CDF of the continuous law on 1..n
    return words[min(max(rank, 1), len(words)) - 1]


def keyword_query(rng: random.Random, words: list[str]) -> str:
    terms = [zipf_pick(rng, words) for _ in range(rng.choice((1, 1, 2, 2, 2, 3)))]
    parts = list(terms)
    roll = rng.random()
    if roll < 0.15 and len(parts) >= 2:
        parts.insert(1, "OR")
    elif roll < 0.20:
        parts = [f'"{terms[0]} {zipf_pick(rng, words)}"', *parts[1:]]
    if rng.random() < 0.10:
        parts.append(f"-{zipf_pick(rng, words)}")
    if rng.random() < 0.10:
        parts.append(f"category:{rng.choice(CATEGORY_NAMES)}")
    return " ".join(parts)


def make_follows(rng: random.Random, words: list[str], count: int) -> dict[int, Spec]:
    specs: dict[int, Spec] = {}
    follow = 0
    while len(specs) < count:
        follow += 1
        roll = rng.random()
        if roll < 0.2:
            specs[follow] = Spec("category", rng.choice(CATEGORY_NAMES))
        elif roll < 0.4:
            specs[follow] = Spec("outlet", rng.choice(OUTLETS))
        else:
            try:
                specs[follow] = spec("query", keyword_query(rng, words))
            except QueryError:
                continue
    return specs


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--follows", type=int, default=100_000)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--naive", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument(
        "--repeat", type=int, default=3, help="also match each article this often, keep the best"
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)

    words = vocabulary(args.seed)
    specs = make_follows(rng, words, args.follows)
    kinds = Counter(s.kind for s in specs.values())
    articles = [story_text(args.seed + 1, n) for n in range(args.articles)]

    started = time.perf_counter()
    perc = Percolator()
    for follow, s in specs.items():
        perc.add(follow, s, rebuild=False)
    perc.rebuild()
    build = time.perf_counter() - started
    started = time.perf_counter()
    sample = [story_text(args.seed + 2, n) for n in range(WARM_UP)]
    perc.learn(Doc.of(t, b, category=c) for t, b, c in sample)
    warm = time.perf_counter() - started

    gc.freeze()  # as kuaizhao.subscriptions.matching does: the index is long-lived

    def doc_of(i: int) -> Doc:
        title, body, category = articles[i]
        return Doc.of(
            title, body, category=category, outlet=OUTLETS[i % len(OUTLETS)], source="测试日报"
        )

    # Each method in its own pass, so neither runs on caches the other just emptied.
    fast: list[float] = []
    found: list[set[int]] = []
    for i in range(len(articles)):
        t0 = time.perf_counter()
        found.append(perc.match(doc_of(i)))
        fast.append(time.perf_counter() - t0)
    best = list(fast)
    for _ in range(args.repeat - 1):
        for i in range(len(articles)):
            t0 = time.perf_counter()
            perc.match(doc_of(i))
            best[i] = min(best[i], time.perf_counter() - t0)
    matched = [len(hits) for hits in found]
    slow: list[float] = []
    for i in range(min(args.naive, len(articles))):
        t0 = time.perf_counter()
        expected = naive(specs, doc_of(i))
        slow.append(time.perf_counter() - t0)
        if expected != found[i]:
            print(f"MISMATCH on article {i}: {len(expected ^ found[i])} follows differ")
            return 1

    def ms(x: float) -> str:
        return f"{x * 1000:.3f}"

    rows = [
        ("percolator", len(fast), statistics.median(fast), percentile(fast, 0.95)),
        ("naive scan", len(slow), statistics.median(slow), percentile(slow, 0.95)),
        (f"percolator, best of {args.repeat}", len(best), statistics.median(best),
         percentile(best, 0.95)),
    ]  # fmt: skip
    load = os.getloadavg()
    print(
        f"{len(specs):,} follows ({kinds['query']:,} keyword, {kinds['category']:,} category, "
        f"{kinds['outlet']:,} outlet); {len(articles):,} articles, "
        f"{statistics.mean(len(a[0]) + len(a[1]) for a in articles):.0f} characters on average"
    )
    print(
        f"index built in {build:.2f} s, keys fitted on {WARM_UP} other stories in {warm:.2f} s; "
        f"{len(perc.rule_of):,} distinct queries under {perc.key_terms:,} key terms; "
        f"follows matched per article: median {statistics.median(matched):.0f}, "
        f"max {max(matched):,}"
    )
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 cores, shared)")
    print()
    print("| method | articles | p50 ms/article | p95 ms/article |")
    print("|---|---:|---:|---:|")
    for name, n, p50, p95 in rows:
        print(f"| {name} | {n:,} | {ms(p50)} | {ms(p95)} |")
    speed50 = rows[1][2] / rows[0][2]
    speed95 = rows[1][3] / rows[0][3]
    print(f"\nspeed-up: {speed50:.0f}x at p50, {speed95:.0f}x at p95 (same articles, same run)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "follows": len(specs),
                "kinds": dict(kinds),
                "articles": len(articles),
                "naive_articles": len(slow),
                "build_seconds": build,
                "warm_up_seconds": warm,
                "distinct_queries": len(perc.rule_of),
                "key_terms": perc.key_terms,
                "matched_median": statistics.median(matched),
                "percolator_ms": {"p50": rows[0][2] * 1000, "p95": rows[0][3] * 1000},
                "naive_ms": {"p50": rows[1][2] * 1000, "p95": rows[1][3] * 1000},
                "percolator_best_ms": {"p50": rows[2][2] * 1000, "p95": rows[2][3] * 1000},
                "speedup": {"p50": speed50, "p95": speed95},
                "load": load,
            },
            indent=2,
        )
    )
    print(f"written {RESULTS.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
