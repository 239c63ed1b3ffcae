"""Search at scale: index build rate, index size, latency and recall, SQLite and PostgreSQL
side by side on one generated corpus of Chinese news-like articles.

Usage: .venv/bin/python benchmarks/search.py [--docs 1000000] [--backends sqlite,postgresql]
       [--queries 40] [--dir var/bench-search] [--pg "host=127.0.0.1 user=postgres"]
       [--build-only] [--reuse [--preload]] [--final optimize|merge|none]
       [--compare DIR,DIR,... [--best-of 5]]

A built index is kept (SQLite: a file in ``--dir``; PostgreSQL: the database ``--pg-db``,
default kz_searchbench) so that ``--reuse`` measures the queries again without rebuilding;
``--build-only`` builds without measuring, so the two backends can be built one after the
other (or at the same time) and then measured side by side in one ``--reuse`` run.
``--preload`` (with ``--reuse``) first reads the kept SQLite database through once: what the
operating system's page cache can hold of it is then in memory, as on a server that has been
answering for a while; without it, a first read of a page the cache has let go goes to disk.

PostgreSQL is built the way a bulk load is: rows first (their keys computed in Python, as
ingest does), then the GIN index with ``CREATE INDEX`` (building it row by row is GIN
maintenance for every key of every article). SQLite's FTS5 index is built row by row, as
ingest does (a transaction a batch; FTS5's automerge merging segments as rows come), then
``--final``: ``optimize`` merges it into one segment (what ``reindex`` ends with); ``merge``
merges until no level holds two segments (what ingest's idle passes do, timed here until
done: an archive whose crawl leaves ingest time to spare); ``none`` leaves it as a saturated
ingest does. ``--reuse --final merge`` (or ``optimize``) runs that last step on an index kept
with ``--final none`` (copy its ``--dir`` first to keep both).

``--compare`` measures kept SQLite indexes of one corpus (each ``--dir`` of an earlier build,
e.g. built with different ``--final``) side by side in one process: each query runs on each
index in turn, ``--best-of`` times, and the best time counts. On a machine whose speed drifts
from run to run by a quarter, that tells the index states apart where separate runs cannot.

The corpus is generated with a fixed seed: each article is a sample-web story (topic names
like 山西中部城市群, places, people, figures) followed by paragraphs of words drawn from
jieba's dictionary by frequency (so word frequencies look like real text); 15% of articles
are syndicated copies of a recent one from another outlet (indexed with its story, so results
fold copies as the catalogue's do). Publish times grow with the id.

Each query kind is timed end to end through the backend's ``search()`` (top 10 with
snippets); latency is the median and 95th percentile over ``--queries`` different queries,
each run once after one warm-up pass. For SQLite the table also tells what each kind's
queries read from storage (``/proc/self/io``: the pages the operating system's cache did not
hold), which tells a first search that waits on the disk from one that computes. Recall
compares the hits with a brute-force scan of the folded text over the newest articles (a date
filter keeps the brute force affordable), story by story: copies fold into one hit.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import jieba

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kuaizhao import conf
from kuaizhao.sampleweb.text import CATEGORIES, make_story
from kuaizhao.search import engine
from kuaizhao.search.document import SHANGHAI, Doc, clean
from kuaizhao.search.query import Query, parse
from kuaizhao.search.related import key_phrases
from kuaizhao.search.schema import schema_sql
from kuaizhao.search.sqlite import ROWIDS, SqliteSearch

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "search.json"
SEED = 20241128
START = datetime(2020, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=6 * 365)
OUTLETS = ("华夏日报网", "江北新闻网", "南风网", "西北日报", "岚山新闻网", "快讯网", "东海晨报")
COPY_SHARE = 0.15
FILLER_WORDS = (90, 200)
VOCABULARY = 60_000
BATCH = 2000
INSIDE_WORDS = ("山西", "城市", "农业", "经济", "合作", "交通", "生态", "项目")


# -- the corpus ------------------------------------------------------------------------------


class Vocabulary:
    def __init__(self) -> None:
        path = Path(jieba.__file__).parent / "dict.txt"
        rows = []
        for line in path.read_text(encoding="utf-8").splitlines():
            word, freq, *_ = line.split(" ")
            rows.append((int(freq), word))
        rows.sort(reverse=True)
        rows = rows[:VOCABULARY]
        self.words = [w for _, w in rows]
        self.cum = list(itertools.accumulate(f for f, _ in rows))

    def sentence(self, rng: random.Random) -> str:
        count = rng.randint(6, 16)
        picks = rng.choices(self.words, cum_weights=self.cum, k=count)
        return "".join(picks) + rng.choice("，，。。。；")


@dataclass(frozen=True)
class Article:
    doc: Doc
    story: int  # id of the original


class Generator:
    def __init__(self, total: int) -> None:
        self.total = total
        self.vocabulary = Vocabulary()

    def published(self, i: int) -> datetime:
        return (
            START + SPAN * (i / self.total) + timedelta(seconds=random.Random(i).randint(0, 3600))
        )

    def original_of(self, i: int) -> int:
        rng = random.Random(SEED * 7 + i)
        if i > 10 and rng.random() < COPY_SHARE:
            return i - rng.randint(1, min(10, i - 1))
        return i

    def article(self, i: int) -> Article:
        origin = self.original_of(i)
        rng = random.Random(SEED + origin)
        cat = rng.randrange(len(CATEGORIES))
        when = self.published(origin)
        story = make_story(SEED, origin, cat, when.month, when.day)
        body = [b.text for b in story.blocks]
        for _ in range(rng.randint(1, 3)):
            words = rng.randint(*FILLER_WORDS) // 10
            body.insert(
                rng.randint(1, len(body)),
                "".join(self.vocabulary.sentence(rng) for _ in range(words)),
            )
        outlet = OUTLETS[(origin + (i != origin) * (1 + i % 5)) % len(OUTLETS)]
        doc = Doc(
            i, story.title, "\n".join(body), self.published(i), CATEGORIES[cat], outlet, origin
        )
        return Article(doc, origin)

    def batches(self, size: int = BATCH) -> Iterator[list[Article]]:
        for start in range(1, self.total + 1, size):
            yield [self.article(i) for i in range(start, min(self.total + 1, start + size))]


# -- backends --------------------------------------------------------------------------------


class SqliteRun:
    name = "sqlite"

    def __init__(
        self, directory: Path, docs: int, reuse: bool = False, final: str = "optimize"
    ) -> None:
        self.final = final
        self.before: dict[str, list[int]] = {}  # segments before the last step
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"search-{docs}.sqlite3"
        self.built = Path(f"{self.path}.build.json")
        self.reused = reuse and self.built.exists()
        if self.reused:
            self.conn = sqlite3.connect(self.path)
            self.backend = SqliteSearch(self.conn)
            self.result = json.loads(self.built.read_text())
            self.upgrade()
            self.as_the_site()
            return
        for suffix in ("", "-wal", "-shm", ".build.json"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self.conn = sqlite3.connect(self.path)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA cache_size=-262144")
        self.conn.execute(
            "CREATE TABLE archive_article (id INTEGER PRIMARY KEY, title TEXT, body_text TEXT)"
        )
        for sql in schema_sql("sqlite"):
            self.conn.execute(sql)
        self.backend = SqliteSearch(self.conn)

    def as_the_site(self) -> None:
        """Measure with the page cache the site's connections have (kuaizhao/settings.py)."""
        self.conn.execute(f"PRAGMA cache_size=-{1024 * conf.get_int('KUAIZHAO_SQLITE_CACHE_MB')}")

    def upgrade(self) -> None:
        """Bring a kept index built by earlier code up to the schema, as the migrations
        do a catalogue's (0009: the titles' table); one whose rowids run oldest first
        (before 0010, which rebuilds the index) is refused."""
        self.conn.execute(
            "CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, search_fts, instance)"
        )
        first = self.conn.execute("SELECT doc FROM temp.vocab LIMIT 1").fetchone()
        self.conn.execute("DROP TABLE temp.vocab")
        if first is not None and first[0] < ROWIDS // 2:
            sys.exit(f"{self.path}: rowids oldest first (built before migration 0010); rebuild it")
        t = time.perf_counter()
        if self.backend.add_titles():
            self.conn.commit()
            self.result["titles_added_s"] = round(time.perf_counter() - t, 1)
            self.keep(self.result)

    def store(self, rows: list[tuple[int, str, str]]) -> None:
        self.conn.executemany("INSERT INTO archive_article VALUES (?, ?, ?)", rows)
        self.conn.commit()

    def index(self, docs: list[Doc]) -> None:
        self.backend.index(docs)
        self.conn.commit()

    def finish(self) -> None:
        self.before = self.backend.segments()
        if self.final == "optimize":
            self.backend.optimize()
        elif self.final == "merge":
            self.backend.merge()
        self.conn.commit()
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def finish_kept(self, final: str) -> None:
        """The build's last step, run later on a kept index built with ``--final none``."""
        kept = self.result.get("final", "none")
        if final == kept:
            return
        if kept != "none":
            sys.exit(f"sqlite: the kept index is already merged (--final {kept})")
        self.final = final
        t = time.perf_counter()
        self.finish()
        self.result.update(final_s=round(time.perf_counter() - t, 1), **self.describe())
        self.result["sizes_bytes"] = self.sizes()
        self.keep(self.result)

    def describe(self) -> dict[str, Any]:
        return {
            "final": self.final,
            "segments_built": self.before,
            "segments": self.backend.segments(),
        }

    def keep(self, result: dict[str, Any]) -> None:
        self.built.write_text(json.dumps(result))
        self.result = result

    def sizes(self) -> dict[str, int]:
        page = self.conn.execute("PRAGMA page_size").fetchone()[0]
        try:
            rows = self.conn.execute(
                "SELECT name, sum(pgsize) FROM dbstat GROUP BY name"
            ).fetchall()
        except sqlite3.OperationalError:
            total = self.conn.execute("PRAGMA page_count").fetchone()[0] * page
            return {"total": total}
        by = dict(rows)
        index = sum(v for k, v in by.items() if k.startswith("search_"))
        return {"index": index, "total": sum(by.values())}

    def preload(self) -> float:
        """Read the database through once, so the operating system's page cache holds what
        fits of it; the seconds it took."""
        t = time.perf_counter()
        for suffix in ("", "-wal"):
            path = Path(f"{self.path}{suffix}")
            if path.exists():
                with path.open("rb", buffering=0) as f:
                    while f.read(1 << 24):
                        pass
        return time.perf_counter() - t

    def close(self) -> None:
        self.conn.close()


class PostgresRun:
    name = "postgresql"
    GIN = ("search_doc_keys",)

    def __init__(self, dsn: str, db: str, reuse: bool = False) -> None:
        import psycopg

        from kuaizhao.search.postgres import PostgresSearch

        self.dsn = dsn
        self.db = db
        self.admin = psycopg.connect(f"{dsn} dbname=postgres", autocommit=True)
        exists = self.admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (db,)
        ).fetchone()
        self.reused = False
        if reuse and exists:
            self.conn = psycopg.connect(f"{dsn} dbname={db}", autocommit=True)
            built = self.conn.execute("SELECT to_regclass('bench_build')").fetchone()
            if built and built[0]:
                row = self.conn.execute("SELECT result FROM bench_build").fetchone()
                self.reused, self.result = True, json.loads(row[0])
                self.backend = PostgresSearch(self.conn)
                return
            self.conn.close()
        self.admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        self.admin.execute(f'CREATE DATABASE "{db}"')
        self.conn = psycopg.connect(f"{dsn} dbname={db}", autocommit=True)
        self.conn.execute("SET work_mem = '64MB'")
        self.conn.execute(
            "CREATE TABLE archive_article (id bigint PRIMARY KEY, title text, body_text text)"
        )
        self.deferred = []
        for sql in schema_sql("postgresql"):
            if any(name in sql for name in self.GIN):
                self.deferred.append(sql)
            else:
                self.conn.execute(sql)
        self.backend = PostgresSearch(self.conn)

    def store(self, rows: list[tuple[int, str, str]]) -> None:
        with self.conn.cursor() as cur, cur.copy("COPY archive_article FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def index(self, docs: list[Doc]) -> None:
        with self.conn.transaction():
            self.backend.index(docs)

    def finish(self) -> None:
        # The GIN build collects keys in memory and writes them out whenever this fills.
        self.conn.execute("SET maintenance_work_mem = '2GB'")
        for sql in self.deferred:
            self.conn.execute(sql)
        self.conn.execute("VACUUM ANALYZE search_doc")
        self.conn.execute("VACUUM ANALYZE archive_article")

    def keep(self, result: dict[str, Any]) -> None:
        self.conn.execute("CREATE TABLE bench_build (result text)")
        self.conn.execute("INSERT INTO bench_build VALUES (%s)", (json.dumps(result),))

    def sizes(self) -> dict[str, int]:
        row = self.conn.execute(
            "SELECT pg_total_relation_size('search_doc'), pg_database_size(current_database())"
        ).fetchone()
        return {"index": row[0], "total": row[1]}

    def close(self) -> None:
        self.conn.close()
        self.admin.close()


# -- queries ---------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Workload:
    kinds: dict[str, list[tuple[Query, tuple[int, ...]]]]
    recall_needles: list[str]
    recall_after: str
    recall_docs: list[Doc]


def workload(gen: Generator, count: int) -> Workload:
    rng = random.Random(SEED)
    sample = [gen.article(rng.randint(1, gen.total)) for _ in range(min(2000, gen.total))]
    texts = [clean(a.doc.title) + "\n" + clean(a.doc.body) for a in sample]
    df: dict[str, int] = {}
    for text in texts:
        for word in set(jieba.lcut(text)):
            if len(word) >= 2:
                df[word] = df.get(word, 0) + 1
    n = len(texts)
    common = sorted(w for w, c in df.items() if 0.05 * n <= c <= 0.15 * n)
    medium = sorted(w for w, c in df.items() if 0.01 * n <= c <= 0.05 * n)
    kinds: dict[str, list[tuple[Query, tuple[int, ...]]]] = {
        "rare phrase": [],
        "common word": [],
        "2-char inside words": [],
        "two-term AND": [],
        "word AND phrase": [],
        "filtered": [],
        "related": [],
    }
    for _ in range(count):
        doc = rng.choice(sample).doc
        start = rng.randrange(max(1, len(doc.body) - 8))
        phrase = doc.body[start : start + 8].replace("\n", "")
        kinds["rare phrase"].append((parse(f'"{phrase}"'), ()))
        kinds["common word"].append((parse(rng.choice(common)), ()))
        kinds["2-char inside words"].append((parse(rng.choice(INSIDE_WORDS)), ()))
        kinds["two-term AND"].append((parse(f"{rng.choice(medium)} {rng.choice(medium)}"), ()))
        year = rng.choice((2022, 2023, 2024))
        cat = rng.choice(CATEGORIES)
        kinds["filtered"].append(
            (parse(f"{rng.choice(common)} category:{cat} after:{year}-01-01"), ())
        )
        article = rng.choice(sample)
        phrases = key_phrases(article.doc.title, article.doc.body)
        copies = tuple(
            i
            for i in range(max(1, article.doc.id - 12), min(gen.total, article.doc.id + 12) + 1)
            if gen.original_of(i) == article.story
        )
        for phrase in phrases[:1]:
            kinds["related"].append((parse(f'"{phrase}"'), copies or (article.doc.id,)))
    # A two-character word and a phrase of one article, as a reader narrows a search. A
    # generator of its own, so the other kinds' queries stay those measured before it.
    mixed = random.Random(SEED + 1)
    for _ in range(count):
        doc = mixed.choice(sample).doc
        start = mixed.randrange(max(1, len(doc.body) - 5))
        phrase = doc.body[start : start + 5].replace("\n", "")
        pairs = sorted({w for w in jieba.lcut(clean(doc.body)) if len(w) == 2 and w.isalpha()})
        kinds["word AND phrase"].append((parse(f'{mixed.choice(pairs)} "{phrase}"'), ()))
    recent = max(1, gen.total - max(2000, gen.total // 50))
    recall_docs = [gen.article(i).doc for i in range(recent, gen.total + 1)]
    after = (gen.published(recent) + timedelta(days=1)).astimezone(SHANGHAI).date().isoformat()
    recall_docs = [
        d
        for d in recall_docs
        if d.published_at and d.published_at.astimezone(SHANGHAI).date().isoformat() >= after
    ]
    needles = []
    for _ in range(count):
        doc = rng.choice(recall_docs)
        text = rng.choice([doc.title, doc.body])
        length = rng.randint(1, 12)
        start = rng.randrange(max(1, len(text) - length))
        needle = text[start : start + length]
        if clean(needle) and '"' not in needle and not any(c.isspace() for c in needle):
            needles.append(needle)
    return Workload(kinds, needles, after, recall_docs)


def measure(backend: Any, load: Workload, story: Callable[[int], int]) -> dict[str, Any]:
    out = latencies([backend], load)[0]
    out["recall"] = recall(backend, load, story)
    return out


def storage_read() -> int:
    """Bytes this process has had read from storage so far: what its reads found missing
    from the operating system's page cache (Linux; 0 where that is not told)."""
    try:
        with open("/proc/self/io", encoding="ascii") as f:
            for line in f:
                if line.startswith("read_bytes:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def latencies(backends: list[Any], load: Workload, best_of: int = 1) -> list[dict[str, Any]]:
    """Per backend and query kind, the p50 and p95 of each query's best time: each query runs
    on each backend in turn, ``best_of`` times, after a warm-up on the first three. For an
    embedded backend, also what its timed queries read from storage (a server's reads are
    the server's)."""
    out: list[dict[str, Any]] = [{} for _ in backends]
    for kind, queries in load.kinds.items():
        for backend in backends:
            for query, exclude in queries[:3]:
                backend.search(query, exclude_ids=exclude, per_page=10)
        best: list[list[float]] = [[] for _ in backends]
        totals: list[list[int]] = [[] for _ in backends]
        read = [0] * len(backends)
        for query, exclude in queries:
            times: list[list[float]] = [[] for _ in backends]
            total = [0] * len(backends)
            for _ in range(best_of):
                for i, backend in enumerate(backends):
                    before = storage_read()
                    t = time.perf_counter()
                    total[i] = backend.search(query, exclude_ids=exclude, per_page=10).total
                    times[i].append((time.perf_counter() - t) * 1000)
                    read[i] += storage_read() - before
            for i in range(len(backends)):
                best[i].append(min(times[i]))
                totals[i].append(total[i])
        for i, values in enumerate(best):
            out[i][kind] = {
                "p50_ms": round(statistics.median(values), 1),
                "p95_ms": round(percentile(values, 0.95), 1),
                "median_matches": int(statistics.median(totals[i])) if totals[i] else 0,
            }
            if isinstance(backends[i], SqliteSearch):
                out[i][kind]["read_mb"] = round(read[i] / 1e6, 1)
    return out


def recall(backend: Any, load: Workload, story: Callable[[int], int]) -> dict[str, Any]:
    """Needles from the newest articles: the stories found against a brute-force scan."""
    found = expected = 0
    for needle in load.recall_needles:
        folded = clean(needle)
        brute = sorted(
            (d.id for d in load.recall_docs if folded in clean(d.title) or folded in clean(d.body)),
            reverse=True,
        )
        query = parse(f'"{needle}" after:{load.recall_after}')
        hits: list[int] = []
        for page_no in range(1, 11):
            page = backend.search(query, per_page=100, page=page_no, order="time")
            hits.extend(h.article_id for h in page.hits)
            if len(page.hits) < 100:
                break
        # Copies fold into one hit per story: compare stories.
        want = {story(i) for i in brute[: engine.CANDIDATES]}
        expected += len(want)
        found += len(want & {story(i) for i in hits})
    return {
        "needles": len(load.recall_needles),
        "expected_hits": expected,
        "recall": round(found / expected, 4) if expected else 1.0,
    }


def compare(dirs: list[Path], gen: Generator, load: Workload, best_of: int) -> dict[str, Any]:
    """Each query on each kept index in turn, ``best_of`` times: per kind, the p50 and p95 of
    the best times (see ``--compare``)."""
    runs = [SqliteRun(d, gen.total, reuse=True) for d in dirs]
    if missing := [str(d) for d, r in zip(dirs, runs, strict=True) if not r.reused]:
        sys.exit(f"no kept index of {gen.total:,} articles in {', '.join(missing)}")
    out: dict[str, Any] = {}
    measured = latencies([r.backend for r in runs], load, best_of)
    for d, r, kinds in zip(dirs, runs, measured, strict=True):
        out[str(d)] = r.result | kinds | {"recall": recall(r.backend, load, gen.original_of)}
        r.close()
    return out


def run(
    backend_run: Any, gen: Generator, load: Workload | None, build_only: bool = False
) -> dict[str, Any]:
    if backend_run.reused:
        # The same index, built by an earlier run: measure the queries again.
        result = dict(backend_run.result)
        if load is not None:
            result.update(measure(backend_run.backend, load, gen.original_of))
        backend_run.close()
        return result
    stored = indexed = 0.0
    chars = 0
    for batch in gen.batches():
        t = time.perf_counter()
        backend_run.store([(a.doc.id, a.doc.title, a.doc.body) for a in batch])
        stored += time.perf_counter() - t
        chars += sum(len(a.doc.title) + len(a.doc.body) for a in batch)
        t = time.perf_counter()
        backend_run.index([a.doc for a in batch])
        indexed += time.perf_counter() - t
        done = batch[-1].doc.id
        if done % 50_000 < BATCH:
            print(f"  {backend_run.name}: {done} indexed, {done / indexed:.0f}/s", flush=True)
    t = time.perf_counter()
    backend_run.finish()
    finish = time.perf_counter() - t
    sizes = backend_run.sizes()
    result = {
        "docs": gen.total,
        "text_chars": chars,
        "index_docs_per_s": round(gen.total / (indexed + finish)),
        "final_s": round(finish, 1),
        "sizes_bytes": sizes,
    }
    if isinstance(backend_run, SqliteRun):
        result.update(backend_run.describe())
    result["build_load_average"] = os.getloadavg()
    backend_run.keep(result)
    if load is not None and not build_only:
        if isinstance(backend_run, SqliteRun):
            backend_run.as_the_site()
        result.update(measure(backend_run.backend, load, gen.original_of))
    backend_run.close()
    return result


def latency(kind: str, result: dict[str, Any]) -> str:
    r = result[kind]
    read = f"; {r['read_mb']:,} MB" if "read_mb" in r else ""
    return f"{r['p50_ms']} / {r['p95_ms']} ({r['median_matches']:,}{read})"


def table(results: dict[str, dict[str, Any]]) -> str:
    names = list(results)
    kinds = [
        "rare phrase",
        "common word",
        "2-char inside words",
        "two-term AND",
        "word AND phrase",
        "filtered",
        "related",
    ]
    lines = ["| measure | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]

    def row(label: str, get: Callable[[dict[str, Any]], str]) -> None:
        lines.append(f"| {label} | " + " | ".join(get(results[n]) for n in names) + " |")

    row("docs", lambda r: f"{r['docs']:,}")
    row("index build (docs/s)", lambda r: f"{r['index_docs_per_s']:,}")
    row(
        "index size / text (UTF-8)",
        lambda r: f"{r['sizes_bytes'].get('index', 0) / r['text_bytes']:.2f}×",
    )

    def segments(r: dict[str, Any]) -> str:
        if "segments" not in r:
            return ""
        built, final = r["segments_built"], r["segments"]
        counts = [f"{sum(built[t])} → {sum(final[t])}" for t in final]
        return f"{' / '.join(counts)} ({r['final']}, {r['final_s']} s)"

    row("segments built → searched (trigrams / titles / words)", segments)
    for kind in kinds:
        row(f"{kind} p50 / p95 ms (median matches; read from storage)", partial(latency, kind))
    row(
        "recall vs brute force",
        lambda r: "{recall} ({expected_hits} hits, {needles} needles)".format(**r["recall"]),
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--dir", type=Path, default=Path("var/bench-search"))
    parser.add_argument(
        "--pg", default=os.environ.get("KUAIZHAO_BENCH_PG", "host=127.0.0.1 user=postgres")
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--pg-db", default="kz_searchbench", help="the PostgreSQL database")
    parser.add_argument(
        "--reuse", action="store_true", help="query the indexes an earlier run left behind"
    )
    parser.add_argument("--build-only", action="store_true", help="build, do not measure")
    parser.add_argument(
        "--final",
        choices=("optimize", "merge", "none"),
        help="SQLite: after the rows, merge into one segment (reindex; the default), merge as "
        "idle ingest passes do, or leave the index as a saturated ingest does; with --reuse, "
        "merges an index kept with --final none",
    )
    parser.add_argument(
        "--compare",
        type=lambda text: [Path(p) for p in text.split(",")],
        help="kept SQLite indexes (their --dir) to measure side by side in one process",
    )
    parser.add_argument("--best-of", type=int, default=5, help="--compare: runs of each query")
    parser.add_argument(
        "--preload",
        action="store_true",
        help="SQLite, with --reuse: read the kept database through once before measuring, so "
        "first reads come from the page cache as far as it holds the database (a server's "
        "steady state) and not from the disk (a cold start)",
    )
    args = parser.parse_args()
    gen = Generator(args.docs)
    load = None
    if not args.build_only:
        t = time.perf_counter()
        load = workload(gen, args.queries)
        print(f"workload ready in {time.perf_counter() - t:.0f}s; load average {os.getloadavg()}")
    results: dict[str, dict[str, Any]] = {}
    if args.compare and load is not None:
        before = os.getloadavg()
        results = compare(args.compare, gen, load, args.best_of)
        for r in results.values():
            r["load_average"] = [before, os.getloadavg()]
            r["best_of"] = args.best_of
    for name in [] if args.compare else args.backends.split(","):
        backend_run: SqliteRun | PostgresRun = (
            SqliteRun(args.dir, args.docs, args.reuse, args.final or "optimize")
            if name == "sqlite"
            else PostgresRun(args.pg, args.pg_db, args.reuse)
        )
        if backend_run.reused and backend_run.result["docs"] != args.docs:
            sys.exit(f"{name}: the kept index holds {backend_run.result['docs']:,} articles")
        if isinstance(backend_run, SqliteRun) and backend_run.reused and args.final:
            backend_run.finish_kept(args.final)
        preloaded = None
        if isinstance(backend_run, SqliteRun) and backend_run.reused and args.preload:
            preloaded = round(backend_run.preload(), 1)
        t = time.perf_counter()
        before = os.getloadavg()
        results[name] = run(backend_run, gen, load, args.build_only)
        results[name]["wall_s"] = round(time.perf_counter() - t)
        if preloaded is not None:
            results[name]["preloaded_s"] = preloaded
        results[name]["load_average"] = [before, os.getloadavg()]
        print(json.dumps(results[name], ensure_ascii=False), flush=True)
    if args.build_only:
        return
    sample = [gen.article(i).doc for i in range(1, min(gen.total, 2000) + 1)]
    avg_bytes = statistics.mean(len((d.title + d.body).encode()) for d in sample)
    for r in results.values():
        r["text_bytes"] = round(avg_bytes * r["docs"])
    print(table(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "corpus": {
                    "docs": args.docs,
                    "seed": SEED,
                    "avg_chars": round(statistics.mean(len(d.title + d.body) for d in sample)),
                    "avg_utf8_bytes": round(avg_bytes),
                },
                "candidates": engine.CANDIDATES,
                "cpus": os.cpu_count(),
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
