"""Crawl benchmark: bare Scrapy, Scrapy + trafilatura, and kuaizhao end to end, side by side.

    .venv/bin/python benchmarks/crawl.py [--articles 20000] [--page-kb 30] [--extract-sample 2000]

One sample web (``--articles`` articles, article pages of ``--page-kb``..2×``--page-kb`` KB)
serves all runs, in its own process:

(a) bare Scrapy fetching every article page with a no-op callback (one process: one core);
(b) the same with ``trafilatura.extract`` in the callback, on the first ``--extract-sample``
    pages (its rate is per page; the whole set would take many minutes);
(c) kuaizhao end to end, ``kuaizhao crawl --once``: the crawler (a child process) discovers
    the outlets from their lists, feeds and sitemaps, fetches articles, continuation pages
    and images into WARC files, closing one every WARC_MAX_AGE seconds; the parent ingests
    each closed file (extract, catalogue, search index) as it comes, until every article is
    searchable. Two processes: both cores. The sample outlets' configs (written by the
    sample web) allow 4 requests at a time per outlet and no delay.
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
WARC_MAX_AGE = 2
"""(c): seconds after which the crawler closes a WARC file for ingest (default 300)."""
INGEST_INTERVAL = 1
"""(c): seconds between two ingests of closed files (default 60)."""
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
    if mode == "trafilatura":
        import trafilatura  # here, not in the callback: Scrapy would only log an ImportError

    class Bench(Spider):
        name = "bench"

        async def start(self) -> Any:
            for url in urls:
                yield Request(url, callback=self.parse)

        def parse(self, response: Any) -> None:
            if mode == "trafilatura" and trafilatura.extract(response.text):
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


def _children_cpu() -> float:
    """CPU seconds (user + system) of every child process waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cpu(pid: int) -> float:
    """CPU seconds a running process has used (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_worker(*args: str) -> dict[str, Any]:
    before = _children_cpu()
    out = subprocess.run(
        [sys.executable, __file__, "--worker", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    result = dict(json.loads(out.stdout.strip().splitlines()[-1]))
    return result | {"cpu_seconds": round(_children_cpu() - before, 2)}


def _peak_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run_kuaizhao(base: str, home: Path, articles: int) -> dict[str, Any]:
    """``kuaizhao crawl --once``, as an operator runs it: the crawler in a child process,
    ingest in the parent on closed WARC files as they come (two processes: both cores)."""
    env = {**os.environ, "KUAIZHAO_HOME": str(home), "PYTHONPATH": str(ROOT)}
    for name in ("KUAIZHAO_DATABASE_URL", "KUAIZHAO_REDIS_URL"):
        env.pop(name, None)
    env["KUAIZHAO_WARC_MAX_AGE"] = str(WARC_MAX_AGE)
    env["KUAIZHAO_INGEST_INTERVAL"] = str(INGEST_INTERVAL)
    outlets = home / "outlets"
    port = base.rsplit(":", 1)[1].strip("/")
    write = [sys.executable, "-m", "kuaizhao.sampleweb", "--port", port]
    subprocess.run([*write, "--write-outlets", str(outlets)], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    command = [sys.executable, "-m", "kuaizhao", "crawl", "--once", "--outlets", str(outlets)]
    cpu_before = _children_cpu()
    crawler_cpu = 0.0
    started = time.perf_counter()
    parent = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    stats_dir = home / "crawl-stats"
    crawler_pid, crawler_kb, parent_kb, crawl_seconds = 0, 0, 0, 0.0
    while parent.poll() is None:
        parent_kb = max(parent_kb, _peak_kb(parent.pid))
        if not crawler_pid:
            found = sorted(stats_dir.glob("*.json")) if stats_dir.is_dir() else []
            crawler_pid = int(found[0].stem.rsplit("-", 1)[1]) if found else 0
        if crawler_pid:
            kb = _peak_kb(crawler_pid)
            crawler_cpu = max(crawler_cpu, _cpu(crawler_pid))
            if kb:
                crawler_kb = max(crawler_kb, kb)
            elif not crawl_seconds:
                crawl_seconds = time.perf_counter() - started
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before
    if parent.returncode != 0:
        raise RuntimeError(f"kuaizhao crawl exited with status {parent.returncode}")
    stats = json.loads(next(stats_dir.glob("*.json")).read_text(encoding="utf-8"))
    with sqlite3.connect(home / "kuaizhao.sqlite3") as db:
        catalogued = db.execute("SELECT count(*) FROM archive_article").fetchone()[0]
    return {
        "articles": stats["articles"],
        "catalogued": catalogued,
        "expected_articles": articles,
        "responses": stats["responses"],
        "crawl_seconds": round(crawl_seconds or seconds, 2),
        "seconds": round(seconds, 2),
        "crawler_peak_mb": round(crawler_kb / 1024, 1),
        "ingest_peak_mb": round(parent_kb / 1024, 1),
        "crawler_cpu_seconds": round(crawler_cpu, 2),
        "ingest_cpu_seconds": round(cpu - crawler_cpu, 2),
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
        if kind == "seen":
            print(json.dumps(worker_seen(int(rest[0]))))
        else:
            print(json.dumps(worker_scrapy(Path(rest[0]), kind)))
        return 0

    load_before = os.getloadavg()
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
            if b["extracted"] < b["pages"] // 2:
                raise RuntimeError(f"(b) is no baseline: trafilatura extracted {b['extracted']} "
                                   f"of {b['pages']} pages")  # fmt: skip
            c = run_kuaizhao(base, Path(tmp) / "home", len(manifest))
        d = run_worker("seen", str(args.seen))
    finally:
        web.terminate()
        web.wait(timeout=30)

    per_article = len(manifest) / len(pages)
    a_rate = a["pages"] / a["seconds"] * per_article
    b_rate = b["pages"] / b["seconds"] * per_article
    c_rate = c["catalogued"] / c["seconds"]
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
    load = os.getloadavg()
    print(f"load average: {load_before[0]:.2f} before, {load[0]:.2f} {load[1]:.2f} after")
    # On a machine shared with other work, wall-clock rates say more about the load than
    # about the code; CPU seconds much less so. Each run's rate with its CPU to itself:
    # (a) and (b) one core each; (c) two processes on two cores, the busier one setting the pace.
    a_cpu = len(manifest) / a["cpu_seconds"] * (a["pages"] / len(pages))
    b_cpu = b["pages"] / b["cpu_seconds"] * per_article
    c_cpu = c["catalogued"] / max(c["crawler_cpu_seconds"], c["ingest_cpu_seconds"])
    cpu_line = f"CPU seconds: (a) {a['cpu_seconds']:.1f}, (b) {b['cpu_seconds']:.1f}, (c) crawler "
    cpu_line += f"{c['crawler_cpu_seconds']:.1f} + ingest {c['ingest_cpu_seconds']:.1f}"
    print(cpu_line)
    print(f"articles per second of the busiest process's CPU: (a) {a_cpu:.1f}, (b) {b_cpu:.1f}, "
          f"(c) {c_cpu:.1f}; c/a = {c_cpu / a_cpu:.2f}, c/b = {c_cpu / b_cpu:.2f}")  # fmt: skip
    print(
        f"c/a = {c_rate / a_rate:.2f} (target >= 0.25), c/b = {c_rate / b_rate:.2f} (target >= 3)"
    )
    c_line = f"(c) {c['articles']} articles fetched, {c['catalogued']} catalogue rows, "
    c_line += f"{c['responses']} responses; {c['seconds']} s (crawl {c['crawl_seconds']} s); "
    c_line += f"ingest process peak {c['ingest_peak_mb']} MB; WARC files closed every "
    c_line += f"{WARC_MAX_AGE} s, ingested every {INGEST_INTERVAL} s"
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
        "cpu_bound": {
            "a_articles_per_cpu_s": round(a_cpu, 1),
            "b_articles_per_cpu_s": round(b_cpu, 1),
            "c_articles_per_cpu_s_busiest": round(c_cpu, 1),
            "c_over_a": round(c_cpu / a_cpu, 3),
            "c_over_b": round(c_cpu / b_cpu, 3),
        },
        "d_seen_memory": d,
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "load_average": {"before": load_before, "after": load},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
