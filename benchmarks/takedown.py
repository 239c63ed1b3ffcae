"""What the takedown rules cost a public list: the materialised ``Hidden`` table against the
unfiltered list (the ceiling) and against deciding the rules row by row in Python.

Usage: .venv/bin/python benchmarks/takedown.py [--articles 50000] [--rules 500]
       [--repeat 30] [--dir var/bench-takedown] [--database-url postgres://…/kz_bench]

A fresh catalogue (SQLite in ``--dir``, or the PostgreSQL database named) gets ``--articles``
articles over 40 hosts and 10 categories, and ``--rules`` rules: 90% single pages, 10%
prefixes (a section of a host), each ``exclude`` or ``block``, and 20 ``allow`` exceptions;
about 1% of the articles end up hidden. Timed, each ``--repeat`` times (median, p95):

- a category page: the newest 30 of a category and its count (what ``Paginator`` asks);
  unfiltered, through ``visibility.public`` and row by row (``RuleSet.hides`` on every row of
  the category, as a list without the table would have to do to count);
- ``visibility.guard`` on one URL (a snapshot page's check);
- applying one prefix rule that hides 1% of the articles (``sync_due``: Hidden and search).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "takedown.json"
SEED = 20261128
PAGE = 30


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    fn()  # warm-up
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1000)
    runs.sort()
    return statistics.median(runs), runs[min(len(runs) - 1, int(len(runs) * 0.95))]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--articles", type=int, default=50_000)
    p.add_argument("--rules", type=int, default=500)
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--dir", type=Path, default=Path("var/bench-takedown"))
    p.add_argument("--database-url", default="")
    args = p.parse_args()

    args.dir.mkdir(parents=True, exist_ok=True)
    database = args.dir / "kuaizhao.sqlite3"
    if not args.database_url and database.exists():
        database.unlink()
    os.environ["KUAIZHAO_HOME"] = str(args.dir.resolve())
    os.environ["KUAIZHAO_DATABASE_URL"] = args.database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "kuaizhao.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    if args.database_url:
        call_command("flush", interactive=False, verbosity=0)

    from kuaizhao.archive.models import Article, Capture, Outlet
    from kuaizhao.lib.outlets import CATEGORIES
    from kuaizhao.lib.surt import surt
    from kuaizhao.takedown import actions, visibility
    from kuaizhao.takedown.models import Hidden

    rng = random.Random(SEED)
    hosts = [f"news{i:02d}.example.cn" for i in range(40)]
    names = [name for _, name in CATEGORIES][:10]
    outlet = Outlet.objects.create(slug="bench", name="bench", home="http://bench.example/")
    start = datetime(2024, 1, 1, tzinfo=UTC)
    urls = [
        f"http://{rng.choice(hosts)}/{rng.choice(['gn', 'gj', 'cj', 'kj'])}/2024/"
        f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}/c{n}.html"
        for n in range(args.articles)
    ]
    print(f"building {args.articles} articles…", file=sys.stderr)
    captures = Capture.objects.bulk_create(
        [
            Capture(
                url=url, surt=surt(url), captured_at=start, status=200, mime="text/html",
                record_type="response", warc_file="bench.warc.gz", offset=n, length=1,
                payload_digest="x",
            )
            for n, url in enumerate(urls)
        ],
        batch_size=2000,
    )  # fmt: skip
    Article.objects.bulk_create(
        [
            Article(
                url=c.url, surt=c.surt, outlet=outlet, category=names[n % len(names)],
                title=f"标题{n}", published_at=start + timedelta(minutes=n), body_text="正文",
                body_html="<p>正文</p>", content_hash=str(n), extractor_version="1", capture=c,
                first_captured_at=start, last_captured_at=start,
            )
            for n, c in enumerate(captures)
        ],
        batch_size=2000,
    )  # fmt: skip
    print(f"applying {args.rules} rules…", file=sys.stderr)
    for n in range(args.rules):
        verb = "exclude" if n % 2 else "block"
        if n % 10 == 0:
            host = rng.choice(hosts)
            target = f"http://{host}/{rng.choice(['gn', 'gj'])}/2024/{rng.randint(1, 12):02d}0"
            actions.apply_rule(target, verb, actor="bench")
        else:
            actions.apply_rule(rng.choice(urls), verb, actor="bench", exact=True)
    for url in rng.sample(urls, 20):
        actions.apply_rule(url, "allow", actor="bench", exact=True)
    hidden = Hidden.objects.count()
    category = names[3]
    with connection.cursor() as cursor:  # planner statistics, as a settled catalogue has
        cursor.execute("ANALYZE")

    def unfiltered() -> None:
        qs = Article.objects.filter(category=category).order_by("-published_at", "-id")
        list(qs[:PAGE])
        qs.count()

    def materialised() -> None:
        with visibility.request_scope():  # as in a page: the due-rule check included
            qs = visibility.public(Article.objects.filter(category=category))
            list(qs.order_by("-published_at", "-id")[:PAGE])
            qs.count()

    def row_by_row() -> None:
        rules = visibility.load()
        rows = Article.objects.filter(category=category).order_by("-published_at", "-id")
        kept = [pk for pk, key in rows.values_list("id", "surt") if rules.hides(key) is None]
        Article.objects.in_bulk(kept[:PAGE])
        len(kept)

    target_url = urls[len(urls) // 2]

    def guard() -> None:
        with visibility.request_scope(), contextlib.suppress(Exception):
            visibility.guard(target_url)  # a hidden one raises: the cost is the same

    results: dict[str, tuple[float, float]] = {
        "category page, unfiltered (ceiling)": timed(unfiltered, args.repeat),
        "category page, visibility.public": timed(materialised, args.repeat),
        "category page, rules row by row": timed(row_by_row, args.repeat),
        "guard(url), one snapshot page": timed(guard, args.repeat),
    }
    host = hosts[0]
    begin = time.perf_counter()
    actions.apply_rule(f"http://{host}/", "block", actor="bench")
    apply_ms = (time.perf_counter() - begin) * 1000
    newly = Hidden.objects.count() - hidden

    load = os.getloadavg()
    share = f"{hidden / args.articles:.1%}"
    print(f"\n{connection.vendor}, {args.articles} articles, {args.rules + 20} rules, "
          f"{hidden} hidden ({share}); load {load[0]:.2f} {load[1]:.2f}")  # fmt: skip
    print(f"{'':40} {'median ms':>10} {'p95 ms':>10}")
    for name, (median, p95) in results.items():
        print(f"{name:40} {median:10.2f} {p95:10.2f}")
    base = results["category page, unfiltered (ceiling)"][0]
    mat = results["category page, visibility.public"][0]
    naive = results["category page, rules row by row"][0]
    print(f"public / unfiltered: {mat / base:.2f}x; row by row / public: {naive / mat:.1f}x")
    print(f"applying a host-wide block ({newly} articles): {apply_ms:.0f} ms")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "database": connection.vendor,
                "articles": args.articles,
                "rules": args.rules + 20,
                "hidden": hidden,
                "load": load,
                "timings_ms": {k: {"median": m, "p95": q} for k, (m, q) in results.items()},
                "apply_host_block_ms": apply_ms,
                "apply_host_block_articles": newly,
            },
            indent=2,
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
