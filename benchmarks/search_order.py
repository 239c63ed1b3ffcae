"""FTS5 rowid order: what finding a query's newest matches costs when the index's rowids run
oldest first (the article id, as ``search_fts`` is built) and when they run newest first
(``docs + 1 - id``).

Usage: .venv/bin/python benchmarks/search_order.py [--docs 200000] [--queries 40]
       [--dir var/bench-order] [--cold]

Search reads a query's newest ``engine.CANDIDATES`` matches (``ORDER BY rowid DESC LIMIT
1000`` on ``search_fts``). FTS5 steps through a doclist backwards at a higher cost than
forwards; with rowids counting down as articles arrive, the same matches are the first ones
walked forwards (``ORDER BY rowid ASC``). This builds both indexes of the trigram table
alone, from the corpus of ``benchmarks/search.py`` (its articles and batches: a transaction
of 2,000 articles, the text stored beside the index as the catalogue stores it; each batch's
index rows inserted in rowid order), kept in ``--dir`` and reused by later runs. It then
times that query for each of search.py's query kinds on both, each query on each index in
turn: best of 3 in one process (the OS page cache warm), and with ``--cold`` (root only) once
each after dropping the page cache, with the bytes read from storage. Both orders must find
the same articles in the same order, or the run stops.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from search import Generator, Workload, percentile, workload  # noqa: E402

from kuaizhao import conf  # noqa: E402
from kuaizhao.search import engine  # noqa: E402
from kuaizhao.search.document import clean, trigram_stream  # noqa: E402
from kuaizhao.search.schema import SQLITE_TOKENIZER  # noqa: E402
from kuaizhao.search.sqlite import expression  # noqa: E402

ORDERS = {"oldest first": "DESC", "newest first": "ASC"}
KINDS = ("rare phrase", "common word", "2-char inside words", "two-term AND", "word AND phrase")


def rowid(order: str, article_id: int, docs: int) -> int:
    """Newest first, the last article's rowid is 1 (an archive would count down from a
    fixed bound; the order is what is measured)."""
    return article_id if order == "oldest first" else docs + 1 - article_id


def build(path: Path, order: str, gen: Generator) -> float:
    """The trigram table (as ``search_fts``) and the articles' text; the seconds it took."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA cache_size=-262144")
    conn.execute(
        "CREATE TABLE archive_article (id INTEGER PRIMARY KEY, title TEXT, body_text TEXT)"
    )
    conn.execute(
        "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, content='', prefix='1 2', "
        f"""columnsize=0, tokenize="{SQLITE_TOKENIZER}")"""
    )
    started = time.perf_counter()
    for batch in gen.batches():
        docs = [a.doc for a in batch]
        conn.executemany(
            "INSERT INTO archive_article VALUES (?, ?, ?)", [(d.id, d.title, d.body) for d in docs]
        )
        rows = sorted(
            (
                rowid(order, d.id, gen.total),
                trigram_stream(clean(d.title)),
                trigram_stream(clean(d.body)),
            )
            for d in docs
        )
        conn.executemany("INSERT INTO search_fts (rowid, title, body) VALUES (?, ?, ?)", rows)
        conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.perf_counter() - started


def read_bytes() -> int:
    """Bytes this process has had read from storage (not the page cache)."""
    with open("/proc/self/io") as f:
        for line in f:
            if line.startswith("read_bytes:"):
                return int(line.split()[1])
    return 0


def drop_page_cache() -> None:
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("1")


def newest(conn: sqlite3.Connection, order: str, expr: str, docs: int) -> list[int]:
    sql = (
        "SELECT rowid FROM search_fts WHERE search_fts MATCH ? "
        f"ORDER BY rowid {ORDERS[order]} LIMIT {engine.CANDIDATES}"
    )
    return [rowid(order, r, docs) for (r,) in conn.execute(sql, (expr,))]  # its own inverse


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA cache_size=-{1024 * conf.get_int('KUAIZHAO_SQLITE_CACHE_MB')}")
    return conn


def measure(paths: dict[str, Path], load: Workload, docs: int, cold: bool) -> dict[str, Any]:
    """Per kind and order: p50, p95 and sum of the query times, and MB read."""
    out: dict[str, Any] = {}
    conns = {order: connect(path) for order, path in paths.items()}
    for kind in KINDS:
        exprs = [expression(p) for q, _ in load.kinds[kind] if (p := engine.plan(q)).groups]
        times: dict[str, list[float]] = {o: [] for o in paths}
        read: dict[str, int] = dict.fromkeys(paths, 0)
        found: dict[str, list[list[int]]] = {o: [] for o in paths}
        for expr in exprs:
            for order in paths:
                runs = []
                if cold:
                    drop_page_cache()
                    conns[order].close()
                    conns[order] = connect(paths[order])
                before = read_bytes()
                for _ in range(1 if cold else 3):
                    t = time.perf_counter()
                    ids = newest(conns[order], order, expr, docs)
                    runs.append((time.perf_counter() - t) * 1000)
                read[order] += read_bytes() - before
                times[order].append(min(runs))
                found[order].append(ids)
        for order in paths:
            out.setdefault(kind, {})[order] = {
                "p50_ms": round(statistics.median(times[order]), 1),
                "p95_ms": round(percentile(times[order], 0.95), 1),
                "sum_ms": round(sum(times[order]), 1),
                "read_mb": round(read[order] / 1e6, 1),
            }
        first, *others = found.values()
        if any(other != first for other in others):
            sys.exit(f"{kind}: the two orders found different articles")
    for conn in conns.values():
        conn.close()
    return out


def table(results: dict[str, Any], cold: bool) -> str:
    orders = list(ORDERS)
    head = "each once, page cache dropped" if cold else "best of 3, page cache warm"
    lines = [
        f"| newest {engine.CANDIDATES} matches, {head} | "
        + " | ".join(f"{o}: p50 / p95 / sum ms" + (", MB read" if cold else "") for o in orders)
        + " |",
        "|---|" + "---|" * len(orders),
    ]
    for kind, by in results.items():
        cells = []
        for o in orders:
            r = by[o]
            cell = f"{r['p50_ms']} / {r['p95_ms']} / {r['sum_ms']}"
            cells.append(cell + (f", {r['read_mb']}" if cold else ""))
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--dir", type=Path, default=Path("var/bench-order"))
    parser.add_argument("--cold", action="store_true", help="drop the page cache before each query")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "search_order.json")
    args = parser.parse_args()
    gen = Generator(args.docs)
    args.dir.mkdir(parents=True, exist_ok=True)
    paths = {o: args.dir / f"{o.split()[0]}-{args.docs}.sqlite3" for o in ORDERS}
    built: dict[str, float] = {}
    for order, path in paths.items():
        if not path.exists():
            built[order] = round(build(path, order, gen), 1)
            print(f"built {path} ({order}) in {built[order]} s", flush=True)
    load = workload(gen, args.queries)
    results = measure(paths, load, args.docs, args.cold)
    print(table(results, args.cold))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "docs": args.docs,
                "cold": args.cold,
                "built_s": built,
                "sizes_bytes": {o: p.stat().st_size for o, p in paths.items()},
                "load_average": os.getloadavg(),
                "results": results,
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
