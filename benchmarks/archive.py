"""The archive's costs: WARC writing beside plain warcio, bytes on disk, revisits, reindex.

Usage: .venv/bin/python benchmarks/archive.py [--articles N] [--repeat R]

Pages come from the sample web in memory (every page of N articles, their images, the
channel pages and feeds), each body as the server sends it (gzip-encoded when it offers
gzip). Rows, each the best of R runs:

- ``kuaizhao WarcWriter``: what the crawler runs: request, response and metadata records per
  capture, byte-exact heads, digests, the file written through ``.open`` and renamed;
- ``warcio, no extra work``: warcio's ``WARCWriter`` writing the same request and response
  records to one file, nothing else;
- the same two at gzip level 6 (warcio always compresses at level 9);
- ``re-crawl, unchanged``: every page again with the first crawl's digests known, so every
  response becomes a revisit record.

Throughput is payload bytes (the HTTP bodies as stored) per second of writing. Reindex is
``reset`` plus ``ingest`` of the article pages into a fresh SQLite catalogue, scaled to
10,000 articles. Results go to ``benchmarks/results/archive.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import warcio.warcwriter  # noqa: E402
from warcio.statusandheaders import StatusAndHeaders  # noqa: E402
from warcio.warcwriter import WARCWriter  # noqa: E402

from kuaizhao.sampleweb.app import App  # noqa: E402
from kuaizhao.sampleweb.corpus import Corpus  # noqa: E402
from kuaizhao.warc.writer import PriorCapture, WarcWriter  # noqa: E402

BASE = "http://127.0.0.1:8001"
START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Exchange:
    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    article: bool


def sample_pages(articles: int) -> list[Exchange]:
    """Every page of ``articles`` sample-web articles, their images, channels and feeds."""
    corpus = Corpus(articles, 1)
    app = App(corpus)
    paths: dict[str, bool] = {"/robots.txt": False}
    for entry in corpus.manifest()["articles"]:
        for page in entry["pages"]:
            paths[page.removeprefix(BASE) if page.startswith("http") else page] = True
        for image in entry.get("images", []):
            src = str(image["src"]).removeprefix(BASE)
            if src.startswith("/"):
                paths.setdefault(src, False)
        outlet = "/" + str(entry["outlet"]) + "/"
        paths.setdefault(outlet, False)
    exchanges = []
    for path, is_article in paths.items():
        response = app.handle("GET", path)
        body, headers = response.body, [("Content-Type", response.content_type)]
        if response.gzip_ok:
            body = response.gzipped()
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(body))))
        exchanges.append(Exchange(BASE + path, response.status, headers, body, is_article))
    return exchanges


@contextmanager
def gzip_level(level: int) -> Iterator[None]:
    """warcio's record compressor at ``level`` for the duration."""
    original = warcio.warcwriter.GzippingWrapper.__init__

    def init(self: Any, out: Any) -> None:
        self.compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS + 16)
        self.out = out

    warcio.warcwriter.GzippingWrapper.__init__ = init
    try:
        yield
    finally:
        warcio.warcwriter.GzippingWrapper.__init__ = original


def write_kuaizhao(
    pages: list[Exchange], directory: Path, when: datetime, known: dict[Any, Any] | None = None
) -> dict[Any, Any]:
    digests = {}
    with WarcWriter(directory, known_digests=known) as writer:
        for i, page in enumerate(pages):
            moment = when + timedelta(milliseconds=i)
            ref = writer.write_capture(
                url=page.url,
                method="GET",
                request_headers=[("User-Agent", "kuaizhao-bench"), ("Accept-Encoding", "gzip")],
                status=page.status,
                reason="OK",
                response_headers=page.headers,
                body=page.body,
                captured_at=moment,
                outlet="bench",
            )
            digests[page.url, ref.payload_digest] = PriorCapture(page.url, moment)
    return digests


def write_warcio(pages: list[Exchange], directory: Path, when: datetime) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "plain.warc.gz").open("wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="WARC/1.1")
        for page in pages:
            request = writer.create_warc_record(
                page.url,
                "request",
                http_headers=StatusAndHeaders(
                    "GET / HTTP/1.1",
                    [("User-Agent", "kuaizhao-bench"), ("Accept-Encoding", "gzip")],
                    is_http_request=True,
                ),
            )
            response = writer.create_warc_record(
                page.url,
                "response",
                payload=BytesIO(page.body),
                length=len(page.body),
                http_headers=StatusAndHeaders(
                    f"{page.status} OK", page.headers, protocol="HTTP/1.1"
                ),
            )
            writer.write_record(request)
            writer.write_record(response)


def size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.iterdir() if p.is_file())


def timed(repeat: int, run: Callable[[Path], Any]) -> tuple[float, int]:
    """Best wall time of ``repeat`` runs, each into a fresh directory, and the bytes written."""
    best, written = float("inf"), 0
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            run(Path(tmp))
            best = min(best, time.perf_counter() - started)
            written = size(Path(tmp))
    return best, written


def reindex_seconds(pages: list[Exchange], articles: int) -> tuple[float, int]:
    """Seconds for ``reset`` + ``ingest`` of the article pages, and the articles catalogued."""
    home = Path(tempfile.mkdtemp(prefix="kz-bench-"))
    os.environ["KUAIZHAO_HOME"] = str(home)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kuaizhao.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    from kuaizhao.archive.ingest import ingest, reset
    from kuaizhao.archive.models import Article
    from kuaizhao.lib.outlets import load_outlets
    from kuaizhao.sampleweb.config import write_outlets

    write_outlets(home / "outlets", BASE)
    outlets = load_outlets(home / "outlets")
    write_kuaizhao([p for p in pages if p.article], home / "warc", START)
    ingest(home / "warc", outlets)
    reset()
    started = time.perf_counter()
    ingest(home / "warc", outlets)
    return time.perf_counter() - started, Article.objects.count()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    pages = sample_pages(args.articles)
    payload = sum(len(p.body) for p in pages)
    records = len(pages)
    rows: list[dict[str, Any]] = []

    def row(name: str, seconds: float, written: int, record_count: int) -> None:
        rows.append(
            {
                "writer": name,
                "captures": records,
                "records": record_count,
                "seconds": round(seconds, 4),
                "payload_mb_per_s": round(payload / seconds / 1e6, 2),
                "captures_per_s": round(records / seconds),
                "records_per_s": round(record_count / seconds),
                "bytes_on_disk": written,
                "bytes_per_capture": round(written / records),
            }
        )

    for level in (9, 6):
        with gzip_level(level):
            seconds, written = timed(args.repeat, lambda d: write_kuaizhao(pages, d, START))
            row(f"kuaizhao WarcWriter, gzip {level}", seconds, written, 3 * records + 1)
            seconds, written = timed(args.repeat, lambda d: write_warcio(pages, d, START))
            row(f"warcio, no extra work, gzip {level}", seconds, written, 2 * records)

    with tempfile.TemporaryDirectory() as tmp:
        known = write_kuaizhao(pages, Path(tmp) / "first", START)
        first = size(Path(tmp) / "first")

        def recrawl(directory: Path) -> None:
            write_kuaizhao(pages, directory, START + timedelta(days=1), known)

        seconds, written = timed(args.repeat, recrawl)
        row("kuaizhao re-crawl, unchanged (revisits)", seconds, written, 3 * records + 1)
    revisit_saving = 1 - written / first

    article_count = sum(p.article for p in pages)
    reindex, catalogued = reindex_seconds(pages, args.articles)
    per_10k = reindex / max(catalogued, 1) * 10_000

    header = f"{'writer':<42} {'MB/s':>7} {'capt/s':>8} {'rec/s':>8} {'bytes/capture':>14}"
    print(
        f"{records} captures ({article_count} article pages), {payload / 1e6:.1f} MB of "
        f"payload, best of {args.repeat}; Python {platform.python_version()}, {platform.machine()}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['writer']:<42} {r['payload_mb_per_s']:>7.2f} {r['captures_per_s']:>8} "
            f"{r['records_per_s']:>8} {r['bytes_per_capture']:>14}"
        )
    print(f"revisit saving on an unchanged re-crawl: {revisit_saving:.1%} fewer bytes")
    print(
        f"reindex: {catalogued} articles in {reindex:.2f} s = {per_10k:.0f} s per 10,000 articles"
    )
    results = {
        "articles": args.articles,
        "captures": records,
        "article_pages": article_count,
        "payload_bytes": payload,
        "repeat": args.repeat,
        "python": platform.python_version(),
        "writers": rows,
        "revisit_saving": round(revisit_saving, 4),
        "reindex": {
            "articles": catalogued,
            "seconds": round(reindex, 3),
            "seconds_per_10000_articles": round(per_10k, 1),
        },
    }
    out = HERE / "results" / "archive.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    print(f"written to {out.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
