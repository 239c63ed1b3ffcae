"""Two crawler processes share one Redis frontier; both feed one catalogue on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from kuaizhao.crawler.seen import BloomFilter, bloom_size
from kuaizhao.sampleweb.config import write_outlets
from kuaizhao.sampleweb.server import SampleWeb
from tests.crawler.test_crawl import ROOT, UA
from tests.crawler.test_resume import captures, manifest

pytestmark = pytest.mark.e2e


def test_two_crawlers_sharing_redis_capture_every_article_once_into_one_pg_catalogue(
    tmp_path: Path, redis_url: str, redis_prefix: str, pg_database_url: str
) -> None:
    web = SampleWeb(articles=30, seed=9).start()
    home = tmp_path / "home"
    warc = home / "warc"
    try:
        write_outlets(tmp_path / "outlets", web.url)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        crawlers = []
        for name in ("a", "b"):
            command = [sys.executable, "-m", "kuaizhao.crawler", "--outlets"]
            command += [str(tmp_path / "outlets"), "--warc-dir", str(warc), "--user-agent", UA]
            command += ["--state-dir", str(tmp_path / name), "--redis-url", redis_url]
            command += ["--redis-prefix", redis_prefix]
            command += ["--log-file", str(tmp_path / f"{name}.log")]
            crawlers.append(
                subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
            )
        for process in crawlers:
            out, _ = process.communicate(timeout=300)
            assert process.returncode == 0, out
        articles = manifest(web)
    finally:
        web.stop()

    wanted = {p for a in articles for p in a["pages"]} | {
        i["src"] for a in articles for i in a["images"]
    }
    found = [c for c in captures(warc) if c.url in wanted]
    counts = Counter(c.url for c in found)
    assert set(counts) == wanted
    assert [url for url, n in counts.items() if n > 1] == []  # exactly once in total
    writers = Counter(c.warc_file.rsplit("-", 2)[1] for c in found)
    assert len(writers) == 2, writers  # both processes did part of the work

    ingest_env = {**env, "KUAIZHAO_HOME": str(home), "KUAIZHAO_DATABASE_URL": pg_database_url}
    ingest = subprocess.run(
        [sys.executable, "-m", "kuaizhao", "ingest", "--outlets", str(tmp_path / "outlets")],
        cwd=ROOT, env=ingest_env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ingest.returncode == 0, ingest.stderr[-3000:]

    import psycopg

    with psycopg.connect(pg_database_url) as db:
        urls = {row[0] for row in db.execute("SELECT url FROM archive_article")}
        files = {row[0] for row in db.execute("SELECT name FROM archive_warcfile")}
    assert {a["url"] for a in articles} <= urls
    assert len({f.rsplit("-", 2)[1] for f in files}) == 2  # files of both crawlers


def test_the_seen_filter_stays_bounded_at_ten_million_urls() -> None:
    bits, hashes = bloom_size(10_000_000, 0.001)
    assert bits // 8 < 20_000_000 and hashes == 10
    bloom = BloomFilter(capacity=10_000, error_rate=0.001)
    added = [f"http://example.org/a/{n}.html" for n in range(10_000)]
    assert sum(bloom.add(url) for url in added) < 30  # false positives while filling
    assert all(bloom.add(url) for url in added)  # never a false negative
    others = sum(f"http://example.org/b/{n}.html" in bloom for n in range(10_000))
    assert others < 60  # about 0.1 % false positives (10 expected)
