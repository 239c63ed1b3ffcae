"""Crawl benchmark: bare Scrapy, Scrapy + trafilatura, and kuaizhao end to end, side by side.

    .venv/bin/python benchmarks/crawl.py [--articles 20000] [--page-kb 30] [--extract-sample 2000]

One sample web (``--articles`` articles, article pages of ``--page-kb``..2×``--page-kb`` KB)
serves all runs, in its own process:

(a) bare Scrapy fetching every article page with a no-op callback (one process: one core);
(b) the same with ``trafilatura.extract`` in the callback, on the first ``--extract-sample``
    pages (its rate is per page; the whole set would take many minutes);
(c) kuaizhao end to end: the crawler discovers the outlets from their lists, feeds and
    sitemaps, fetches articles, continuation pages and images into WARC files, while
    ``kuaizhao ingest`` runs alongside (extract, catalogue, search index) until every
    article is searchable. Two processes: both cores.
(d) the memory of a crawler process holding 1M seen URLs (Bloom filter sized for 10M,
    1M rows of crawl state), measured on a generated frontier.

Prints a table and writes benchmarks/results/crawl.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "crawl.json"
sys.path.insert(0, str(ROOT))


def _maxrss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited across exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- workers (each runs in its own process) ----------------------------------------------


def worker_scrapy(urls_file: Path, mode: str) -> dict[str, Any]:
    from scrapy import Request, Spider
    from scrapy.crawler import CrawlerProcess

    urls = urls_file.read_text(encoding="utf-8").split()
    extracted = [0]

    class Bench(Spider):
        name = "bench"

        async def start(self) -> Any:
            for url in urls:
                yield Request(url, callback=self.parse)

        def parse(self, response: Any) -> None:
            if mode == "trafilatura":
                import trafilatura

                if trafilatura.extract(response.text):
                    extracted[0] += 1

    process = CrawlerProcess(
        {
            "LOG_LEVEL": "ERROR",
            "ROBOTSTXT_OBEY": False,
            "CONCURRENT_REQUESTS": 32,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 32,
            "COOKIES_ENABLED": False,
            "TELNETCONSOLE_ENABLED": False,
            "RETRY_ENABLED": False,
        }
    )
    started = time.perf_counter()
    process.crawl(Bench)
    process.start()
    seconds = time.perf_counter() - started
    return {
        "pages": len(urls),
        "seconds": round(seconds, 2),
        "extracted": extracted[0],
        "peak_mb": round(_maxrss_mb(), 1),
    }


def worker_crawler(args: list[str]) -> None:
    from kuaizhao.crawler.__main__ import main

    code = main(args)
    print(json.dumps({"peak_mb": round(_maxrss_mb(), 1)}), file=sys.stderr, flush=True)
    sys.exit(code)


def worker_seen(count: int) -> dict[str, Any]:
    import scrapy  # noqa: F401  (a crawler process has Scrapy and Twisted loaded)

    from kuaizhao.crawler.seen import BloomFilter
    from kuaizhao.crawler.state import SqliteState

    before = _maxrss_mb()
    bloom = BloomFilter()
    with tempfile.TemporaryDirectory() as tmp:
        state = SqliteState(Path(tmp) / "state.sqlite3")
        now = time.time()
        batch = []
        for n in range(count):
            url = f"http://www.example.com.cn/n1/2024/{n % 1231:04d}/c1001-{n}.html"
            bloom.add(url)
            batch.append((url, "x", "article", 200, f"sha1:{n:032d}", now, now, now + 86400))
            if len(batch) == 50_000:
                state.db.executemany(
                    "INSERT INTO url (url, outlet, kind, status, digest, captured_at, fetched_at,"
                    " next_check) VALUES (?,?,?,?,?,?,?,?)",
                    batch,
                )
                batch.clear()
        state.commit()
        known = state.known_digests(now + 600)
        probe = sum(f"http://www.example.com.cn/other/{n}.html" in bloom for n in range(100_000))
        state.close()
    return {
        "seen": count,
        "bloom_mb": round(len(bloom.array) / 1e6, 1),
        "known_digests_loaded": len(known),
        "false_positive_rate": probe / 100_000,
        "peak_mb": round(_maxrss_mb(), 1),
        "baseline_mb": round(before, 1),
    }


# -- the benchmark ------------------------------------------------------------------------


def start_sampleweb(articles: int, page_kb: int) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "kuaizhao.sampleweb", "--port", "0"]
    command += ["--articles", str(articles), "--page-kb", str(page_kb)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    banner = process.stdout.readline()
    url = banner.split(" on ", 1)[1].split()[0]
    return process, url


def run_worker(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def run_kuaizhao(base: str, home: Path, articles: int) -> dict[str, Any]:
    env = {**os.environ, "KUAIZHAO_HOME": str(home), "PYTHONPATH": str(ROOT)}
    env.pop("KUAIZHAO_DATABASE_URL", None)
    env.pop("KUAIZHAO_REDIS_URL", None)
    outlets = home / "outlets"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "kuaizhao.sampleweb",
            "--port",
            base.rsplit(":", 1)[1].strip("/"),
            "--write-outlets",
            str(outlets),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    crawl = [sys.executable, __file__, "--worker", "crawler", "--outlets", str(outlets)]
    crawl += ["--warc-dir", str(home / "warc"), "--state-dir", str(home)]
    crawl += ["--warc-max-age", "10", "--log-file", str(home / "crawl.log")]
    ingest = [sys.executable, "-m", "kuaizhao", "ingest", "--outlets", str(outlets)]
    started = time.perf_counter()
    crawler = subprocess.Popen(crawl, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
                               stderr=subprocess.PIPE)  # fmt: skip
    ingests = 0
    while crawler.poll() is None:
        subprocess.run(ingest, cwd=ROOT, env=env, check=True, capture_output=True)
        ingests += 1
        time.sleep(1)
    crawl_seconds = time.perf_counter() - started
    out, err = crawler.communicate()
    subprocess.run(ingest, cwd=ROOT, env=env, check=True, capture_output=True)
    seconds = time.perf_counter() - started
    stats = json.loads(out.strip().splitlines()[-1])
    peak = json.loads(err.strip().splitlines()[-1])["peak_mb"]
    with sqlite3.connect(home / "kuaizhao.sqlite3") as db:
        catalogued = db.execute("SELECT count(*) FROM archive_article").fetchone()[0]
    return {
        "articles": stats["articles"],
        "catalogued": catalogued,
        "expected_articles": articles,
        "responses": stats["responses"],
        "crawl_seconds": round(crawl_seconds, 2),
        "seconds": round(seconds, 2),
        "ingest_runs": ingests + 1,
        "crawler_peak_mb": peak,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--page-kb", type=int, default=30)
    parser.add_argument("--extract-sample", type=int, default=2_000)
    parser.add_argument("--seen", type=int, default=1_000_000)
    parser.add_argument("--worker", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        if kind == "crawler":
            worker_crawler(rest)
        elif kind == "seen":
            print(json.dumps(worker_seen(int(rest[0]))))
        else:
            print(json.dumps(worker_scrapy(Path(rest[0]), kind)))
        return 0

    web, base = start_sampleweb(args.articles, args.page_kb)
    try:
        with urllib.request.urlopen(base + "_control/manifest", timeout=600) as response:
            manifest = json.load(response)["articles"]
        pages = [page for article in manifest for page in article["pages"]]
        with tempfile.TemporaryDirectory() as tmp:
            urls = Path(tmp) / "urls.txt"
            urls.write_text("\n".join(pages), encoding="utf-8")
            sample = Path(tmp) / "sample.txt"
            sample.write_text("\n".join(pages[: args.extract_sample]), encoding="utf-8")
            a = run_worker("noop", str(urls))
            b = run_worker("trafilatura", str(sample))
            c = run_kuaizhao(base, Path(tmp) / "home", len(manifest))
        d = run_worker("seen", str(args.seen))
    finally:
        web.terminate()
        web.wait(timeout=30)

    per_article = len(manifest) / len(pages)
    a_rate = a["pages"] / a["seconds"] * per_article
    b_rate = b["pages"] / b["seconds"] * per_article
    c_rate = c["articles"] / c["seconds"]
    rows = [
        ("(a) bare Scrapy, no-op callback", a["pages"] / a["seconds"], a_rate, a["peak_mb"]),
        ("(b) Scrapy + trafilatura.extract", b["pages"] / b["seconds"], b_rate, b["peak_mb"]),
        ("(c) kuaizhao end to end (searchable)", c["responses"] / c["seconds"], c_rate,
         c["crawler_peak_mb"]),
    ]  # fmt: skip
    print(f"sample web: {len(manifest)} articles, {len(pages)} article pages, "
          f"{args.page_kb}-{2 * args.page_kb} KB; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores")  # fmt: skip
    print(f"| {'run':<38} | {'pages/s':>8} | {'articles/s':>10} | {'peak MB':>8} |")
    print(f"|{'-' * 40}|{'-' * 10}|{'-' * 12}|{'-' * 10}|")
    for name, pages_s, arts_s, peak in rows:
        print(f"| {name:<38} | {pages_s:>8.1f} | {arts_s:>10.1f} | {peak:>8.1f} |")
    print(
        f"c/a = {c_rate / a_rate:.2f} (target >= 0.25), c/b = {c_rate / b_rate:.2f} (target >= 3)"
    )
    c_line = f"(c) {c['articles']} articles fetched, {c['catalogued']} catalogue rows, "
    c_line += f"{c['responses']} responses; {c['seconds']} s (crawl {c['crawl_seconds']} s)"
    print(c_line)
    print(f"(d) {d['seen']:,} seen URLs: peak {d['peak_mb']} MB (Bloom filter {d['bloom_mb']} MB "
          f"for 10M at 0.1%, measured false positives {d['false_positive_rate']:.4%})")  # fmt: skip
    result = {
        "articles": len(manifest),
        "article_pages": len(pages),
        "page_kb": [args.page_kb, 2 * args.page_kb],
        "cores": os.cpu_count(),
        "a_bare_scrapy": a | {"articles_per_s": round(a_rate, 1)},
        "b_scrapy_trafilatura": b | {"articles_per_s": round(b_rate, 1)},
        "c_kuaizhao": c | {"articles_per_s": round(c_rate, 1)},
        "c_over_a": round(c_rate / a_rate, 3),
        "c_over_b": round(c_rate / b_rate, 3),
        "d_seen_memory": d,
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
