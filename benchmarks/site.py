"""The website under load: snapshot, category and search pages served by ``kuaizhao serve
--prod`` (gunicorn), side by side with the same snapshot page saved as a static file and
served by the same gunicorn (the ceiling: WhiteNoise answering from memory).

Usage: .venv/bin/python benchmarks/site.py [--articles 100000] [--dir var/bench-site]
       [--reuse] [--duration 10] [--rounds 3] [--connections 32] [--build-only]
       [--measure-only]

The archive: every page of ``--articles`` sample-web articles (the sample web's corpus and
templates, rendered in process by its ``App``) is written to WARC files by the crawler's
``WarcWriter`` and recorded by ingest's first pass (``index_file``: one ``Capture`` row per
record). The articles are then catalogued in bulk, the way ingest stores them but without
extraction (at 15-30 articles/s on a shared two-core machine, extracting 100,000 articles
takes hours): each article's fields come from the sample web's own record of what it
published (title, time, source, 转自, author, editor, paragraphs, captioned images), with its
key phrases, its story (the first article of its corpus story: what ingest's grouping finds),
version 1 and its search-index entry made by the same functions ingest calls. The build is
kept in ``--dir``; ``--reuse`` measures it again without rebuilding.

Load comes from ``wrk`` (Debian: ``apt-get install wrk``) with ``--connections`` connections
over 2 threads for ``--duration`` seconds per row, after a warm-up of 5 seconds. The rows take
turns, ``--rounds`` times, and the table gives each figure's median over the rounds (the
machine is shared: taking turns keeps a burst of someone else's load from landing on one row
only). Rows:

- ``static copy``: the snapshot page's HTML, saved under ``/static/`` (the ceiling);
- ``snapshot page``: that same page, ``/s/<id>`` (validated and served from the page cache);
- ``snapshot pages, 1,000 different``: a Lua script spreads the requests over 1,000 articles,
  so most requests render the page (related coverage, copies, latest in the category);
- ``category page``: ``/c/guonei/`` (the 30 newest stories; cached like a snapshot page);
- ``search page``: ``/search?q=…``, a different common word per request (not cached).

The machine's load (``uptime``) is printed before and after; results go to
``benchmarks/results/site.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from kuaizhao.sampleweb.app import App  # noqa: E402
from kuaizhao.sampleweb.corpus import Corpus  # noqa: E402
from kuaizhao.sampleweb.text import CATEGORIES as CATEGORY_NAMES  # noqa: E402

RESULTS = HERE / "results" / "site.json"
BASE = "http://127.0.0.1:8001"
START = datetime(2026, 1, 1, tzinfo=UTC)
STATIC_DIR = ROOT / "kuaizhao" / "static" / "bench-ceiling"
SEARCH_WORDS = ("城市群", "高质量发展", "投资", "项目", "生态保护", "新能源", "跨境电商", "铁路")
ROTATING_PAGES = 1000
CHUNK = 5000


def build(home: Path, articles: int) -> dict[str, Any]:
    """WARC files of every page of ``articles`` sample-web articles, their captures recorded
    by ingest's first pass, then the catalogue rows built in bulk (see the module docstring)."""
    import django

    os.environ.update(env_for(home))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kuaizhao.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    corpus = Corpus(articles, 1)
    app = App(corpus)
    warc = home / "warc"
    warc.mkdir(parents=True, exist_ok=True)
    pages, write_s, rows_s = 0, 0.0, 0.0
    for first in range(0, articles, CHUNK):
        last = min(first + CHUNK, articles)
        started = time.perf_counter()
        pages += write_chunk(app, corpus, warc, first, last)
        write_s += time.perf_counter() - started
        started = time.perf_counter()
        catalogue_chunk(home, corpus, first, last)
        rows_s += time.perf_counter() - started
        print(
            f"  {last:,} articles: WARC written in {write_s:.0f} s, "
            f"catalogued and indexed in {rows_s:.0f} s ({last / rows_s:.0f} articles/s)",
            flush=True,
        )
    return {"pages": pages, "write_s": write_s, "catalogue_s": rows_s}


def catalogue_chunk(home: Path, corpus: Corpus, first: int, last: int) -> None:
    """What ingest would make of articles ``first``..``last``, from the sample web's own
    record of them instead of extraction: captures (ingest's ``index_file``), outlets,
    articles with key phrases and their story, version 1 of each, the search index."""
    from django.db import transaction

    from kuaizhao.archive import ingest, searching
    from kuaizhao.archive.models import Article, ArticleVersion, Capture, WarcFile
    from kuaizhao.lib.outlets import load_outlets

    known = set(WarcFile.objects.values_list("name", flat=True))
    for path in sorted((home / "warc").glob("*.warc.gz")):
        if path.name not in known:
            ingest.index_file(path, ingest.IngestStats())
    outlets = ingest.sync_outlets(load_outlets(home / "outlets"))
    chunk = corpus.articles[first:last]
    urls = [BASE + a.path(1) for a in chunk]
    captures = {c.url: c for c in Capture.objects.filter(url__in=urls)}
    with transaction.atomic():
        made = Article.objects.bulk_create(
            [
                article_row(corpus, a, captures[u], outlets)
                for a, u in zip(chunk, urls, strict=True)
            ],
            batch_size=500,
        )
        for row, art in zip(made, chunk, strict=True):
            row.story = STORIES.setdefault(art.story, row.pk)
        Article.objects.bulk_update(made, ["story"], batch_size=500)
        ArticleVersion.objects.bulk_create([version_row(row) for row in made], batch_size=500)
        searching.backend().index(searching.document(row) for row in made)
        Capture.objects.filter(url__in=urls).update(processed=True)


STORIES: dict[int, int] = {}
"""Corpus story -> the id of its first article (the original), as ingest's grouping finds."""


def article_row(corpus: Corpus, art: Any, capture: Any, outlets: dict[str, Any]) -> Any:
    import hashlib
    from html import escape

    from kuaizhao.archive.models import Article
    from kuaizhao.lib.surt import canonicalize, surt
    from kuaizhao.search.related import key_phrases

    view = corpus.view(art)
    texts = [text for text, _ in view.blocks]
    body_text = "\n".join(texts)
    html, images = [], []
    for text, image in view.blocks:
        if image is None:
            html.append(f"<p>{escape(text)}</p>")
        else:
            src = f"{BASE}/{view.site.slug}/{image[0]}"
            images.append({"src": src, "caption": text, "alt": ""})
            html.append(
                f'<figure><img src="{escape(src)}"><figcaption>{escape(text)}</figcaption></figure>'
            )
    published = datetime.fromtimestamp(art.ts, UTC)
    return Article(
        url=canonicalize(capture.url),
        surt=surt(capture.url),
        outlet=outlets.get(view.site.slug),
        category=CATEGORY_NAMES[art.cat],
        title=view.title,
        published_at=published,
        source=view.source or "",
        author=view.author or "",
        editor=view.editor or "",
        repost_from=view.repost_from or "",
        summary=texts[0][:120] if texts else "",
        body_text=body_text,
        body_html="".join(html),
        images=images,
        provenance={},
        key_phrases=key_phrases(view.title, body_text),
        content_hash=hashlib.sha1(f"{view.title}\n{body_text}".encode()).hexdigest(),
        extractor_version="bench",
        capture=capture,
        first_captured_at=capture.captured_at,
        last_captured_at=capture.captured_at,
    )


def version_row(row: Any) -> Any:
    from kuaizhao.archive.models import ArticleVersion

    version = ArticleVersion(article=row, captured_at=row.first_captured_at)
    for name in ArticleVersion.CONTENT_FIELDS:
        setattr(version, name, getattr(row, name))
    return version


def write_chunk(app: App, corpus: Corpus, warc: Path, first: int, last: int) -> int:
    from kuaizhao.warc.writer import WarcWriter

    pages = 0
    with WarcWriter(warc) as writer:
        for n in range(first, last):
            article = corpus.articles[n]
            for number in range(1, len(corpus.view(article).pages) + 1):
                path = article.path(number)
                response = app.handle("GET", path)
                if response.status != 200:
                    continue
                writer.write_capture(
                    url=BASE + path,
                    method="GET",
                    request_headers=[("User-Agent", "kuaizhao-bench")],
                    status=200,
                    reason="OK",
                    response_headers=[
                        ("Content-Type", response.content_type),
                        ("Content-Length", str(len(response.body))),
                    ],
                    body=response.body,
                    captured_at=START + timedelta(seconds=n),
                    outlet=article_outlet(article.aid),
                )
                pages += 1
    return pages


def article_outlet(aid: str) -> str:
    return aid.rsplit("-", 1)[0]


def env_for(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUAIZHAO_DATABASE")}
    return env | {"KUAIZHAO_HOME": str(home), "KUAIZHAO_DEBUG": "False"}


def prepare(home: Path, articles: int, reuse: bool) -> dict[str, Any]:
    marker = home / "built.json"
    if reuse and marker.exists():
        built: dict[str, Any] = json.loads(marker.read_text())
        if built["articles"] == articles:
            return built
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    from kuaizhao.sampleweb.config import write_outlets

    write_outlets(home / "outlets", BASE + "/")
    built = {"articles": articles, **build(home, articles)}
    marker.write_text(json.dumps(built))
    return built


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return bytes(response.read())


def start_server(home: Path, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "kuaizhao", "serve", "--prod", "--port", str(port)]
    server = subprocess.Popen(command, env=env_for(home), stdout=subprocess.DEVNULL)
    for _ in range(600):
        if server.poll() is not None:
            raise SystemExit(f"kuaizhao serve exited with {server.returncode}")
        try:
            get(f"http://127.0.0.1:{port}/static/kuaizhao.css")
            return server
        except OSError:
            time.sleep(0.1)
    raise SystemExit("kuaizhao serve did not answer")


def snapshot_ids(home: Path) -> list[int]:
    import sqlite3

    db = sqlite3.connect(f"file:{home / 'kuaizhao.sqlite3'}?mode=ro", uri=True)
    try:
        return [row[0] for row in db.execute("SELECT id FROM archive_article ORDER BY id")]
    finally:
        db.close()


def pick_snapshot(base: str, ids: list[int]) -> int:
    """A syndicated article with related coverage: the fullest kind of snapshot page."""
    rng = random.Random(7)
    for article_id in rng.sample(ids, min(200, len(ids))):
        html = get(f"{base}/s/{article_id}").decode()
        if 'class="story"' in html and 'class="related"' in html:
            return article_id
    return ids[len(ids) // 2]


def lua_rotating(path: Path, paths: list[str]) -> Path:
    listed = ",".join(json.dumps(p) for p in paths)
    path.write_text(
        f"local paths = {{{listed}}}\n"
        "math.randomseed(os.time())\n"
        "request = function()\n"
        "  return wrk.format('GET', paths[math.random(#paths)])\n"
        "end\n"
    )
    return path


_LATENCY = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, duration: int, connections: int, script: Path | None = None) -> dict[str, Any]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    if script is not None:
        command += ["-s", str(script)]
    subprocess.run([*command[:3], "-d5s", *command[4:], url], capture_output=True, check=True)
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rate is None:
        raise SystemExit(f"wrk printed no rate:\n{out}")
    latency = {f"p{q}": float(v) * _UNITS[u] for q, v, u in _LATENCY.findall(out)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(rate.group(1)),
        **latency,
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def median_row(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per figure, the median over the rounds (every round is kept too)."""
    keys = [k for k, v in runs[0].items() if isinstance(v, float | int)]
    return {k: statistics.median(r.get(k, 0) for r in runs) for k in keys} | {"runs": runs}


def measure(home: Path, duration: int, connections: int, rounds: int) -> dict[str, Any]:
    ids = snapshot_ids(home)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # The static copy must exist before the server starts: WhiteNoise indexes files at startup.
    first = start_server(home, port)
    try:
        chosen = pick_snapshot(base, ids)
        html = get(f"{base}/s/{chosen}")
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=30)
    STATIC_DIR.mkdir(exist_ok=True)
    (STATIC_DIR / "snapshot.html").write_bytes(html)
    server = start_server(home, port)
    rows: dict[str, Any] = {}
    try:
        script_dir = home / "wrk"
        script_dir.mkdir(exist_ok=True)
        rng = random.Random(11)
        rotating = [f"/s/{i}" for i in rng.sample(ids, min(ROTATING_PAGES, len(ids)))]
        searches = [f"/search?q={urllib.request.quote(w)}" for w in SEARCH_WORDS]
        plan: list[tuple[str, str, Path | None]] = [
            ("static copy", "/static/bench-ceiling/snapshot.html", None),
            ("snapshot page", f"/s/{chosen}", None),
            (
                f"snapshot pages, {len(rotating):,} different",
                "/",
                lua_rotating(script_dir / "snapshots.lua", rotating),
            ),
            ("category page", "/c/guonei/", None),
            ("search page", "/", lua_rotating(script_dir / "search.lua", searches)),
        ]
        runs: dict[str, list[dict[str, Any]]] = {label: [] for label, _, _ in plan}
        for round_number in range(1, rounds + 1):
            for label, path, script in plan:
                row = wrk(base + path, duration, connections, script)
                runs[label].append(row)
                print(
                    f"  round {round_number}, {label}: {row['rps']:.0f} req/s, "
                    f"p99 {row.get('p99', 0):.1f} ms",
                    flush=True,
                )
        rows = {label: median_row(found) for label, found in runs.items()}
        rows["snapshot page"]["vs_static_per_round"] = [
            page["rps"] / static["rps"]
            for page, static in zip(runs["snapshot page"], runs["static copy"], strict=True)
        ]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(STATIC_DIR, ignore_errors=True)
    return {"snapshot_id": chosen, "snapshot_bytes": len(html), "rows": rows}


def table(rows: dict[str, Any]) -> str:
    ceiling = rows["static copy"]["rps"]
    lines = [
        "| page | req/s | vs static | p50 ms | p99 ms | non-2xx |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, row in rows.items():
        lines.append(
            f"| {label} | {row['rps']:,.0f} | {row['rps'] / ceiling:.0%} | "
            f"{row.get('p50', 0):.1f} | {row.get('p99', 0):.1f} | {row['non_2xx']} |"
        )
    ratios = rows["snapshot page"].get("vs_static_per_round", [])
    if ratios:
        each = ", ".join(f"{r:.0%}" for r in ratios)
        lines.append(f"\nsnapshot page / static copy, round by round: {each}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=ROOT / "var" / "bench-site")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument(
        "--measure-only", action="store_true", help="measure what --dir holds, built or not"
    )
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None and not args.build_only:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    home = args.dir.resolve()
    load_before = uptime()
    print(f"archive of {args.articles:,} sample-web articles in {home}", flush=True)
    if args.measure_only:
        built = {"articles": len(snapshot_ids(home)), "partial": True}
    else:
        built = prepare(home, args.articles, args.reuse)
    if args.build_only:
        return 0
    print(f"load before: {load_before}", flush=True)
    measured = measure(home, args.duration, args.connections, args.rounds)
    load_after = uptime()
    print(table(measured["rows"]))
    print(f"load after: {load_after}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "articles": built["articles"],
                "build": built,
                "connections": args.connections,
                "duration_s": args.duration,
                "rounds": args.rounds,
                "workers": 2 * (os.cpu_count() or 1) + 1,
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "uptime_before": load_before,
                "uptime_after": load_after,
                **measured,
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    print(f"results: {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
