"""Two crawler processes share one Redis frontier; both feed one catalogue on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kuaizhao.crawler.seen import BloomFilter, bloom_size
from kuaizhao.sampleweb.config import write_outlets
from kuaizhao.sampleweb.server import SampleWeb
from tests.crawler.test_crawl import ROOT, UA
from tests.crawler.test_resume import captures, control, manifest

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


def test_a_request_taken_by_a_crawler_killed_9_is_not_lost(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    web = SampleWeb(articles=12, seed=4).start()
    warc = tmp_path / "warc"
    try:
        write_outlets(tmp_path / "outlets", web.url)
        target = manifest(web)[7]["url"]
        control(web, "fault", {"path": "/" + target.split("/", 3)[3], "kind": "slow"})
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "kuaizhao.crawler", "--outlets"]
        command += [str(tmp_path / "outlets"), "--warc-dir", str(warc), "--user-agent", UA]
        command += ["--state-dir", str(tmp_path), "--redis-url", redis_url]
        command += ["--redis-prefix", redis_prefix, "--log-file", str(tmp_path / "crawl.log")]
        first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        leased = f"{redis_prefix}:requests:leased"
        deadline = time.monotonic() + 120
        while not any(target.encode() in v for v in client.hvals(leased)):
            assert first.poll() is None and time.monotonic() < deadline, "never took the request"
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)  # it holds the slow request: popped, not answered
        first.wait()
        assert any(target.encode() in v for v in client.hvals(leased))  # still accounted for
        control(web, "fault", {"path": "/" + target.split("/", 3)[3], "clear": True})
        second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=300)  # fmt: skip
        assert second.returncode == 0, second.stderr[-3000:]
        articles = manifest(web)
    finally:
        web.stop()
        client.close()
    fetched = {c.url for c in captures(warc) if c.status == 200}
    assert target in fetched
    wanted = {p for a in articles for p in a["pages"]} | {
        i["src"] for a in articles for i in a["images"]
    }
    assert wanted <= fetched  # nothing lost
    assert redis.Redis.from_url(redis_url).zcard(f"{redis_prefix}:requests:inflight") == 0


def test_the_seen_filter_stays_bounded_at_ten_million_urls() -> None:
    bits, hashes = bloom_size(10_000_000, 0.001)
    assert bits // 8 < 20_000_000 and hashes == 10
    bloom = BloomFilter(capacity=10_000, error_rate=0.001)
    added = [f"http://example.org/a/{n}.html" for n in range(10_000)]
    assert sum(bloom.add(url) for url in added) < 30  # false positives while filling
    assert all(bloom.add(url) for url in added)  # never a false negative
    others = sum(f"http://example.org/b/{n}.html" in bloom for n in range(10_000))
    assert others < 60  # about 0.1 % false positives (10 expected)


class DieOnceParsed:
    """Spider middleware nearest the engine: ``kill -9`` once the callback for the page at
    :attr:`url` has run to its end and its output is taken, before the engine has scheduled
    any of it (Scrapy's scraper holds it in an in-memory queue at that point)."""

    url = ""

    @classmethod
    def from_crawler(cls, crawler: Any) -> DieOnceParsed:
        return cls()

    def _die_after(self, response: Any) -> None:
        if response is not None and response.url == self.url:
            os.kill(os.getpid(), signal.SIGKILL)

    def process_spider_output(self, response: Any, result: Iterable[Any]) -> Iterator[Any]:
        taken = list(result)
        self._die_after(response)
        yield from taken

    async def process_spider_output_async(
        self, response: Any, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        taken = [output async for output in result]
        self._die_after(response)
        for output in taken:
            yield output


def crawl_then_die(outlets: Path, warc: Path, home: Path, redis_url: str, prefix: str,
                   url: str) -> None:  # fmt: skip
    """A Redis-mode crawl (run in a child process) killed as the page at ``url`` is parsed."""
    from kuaizhao.crawler import run
    from kuaizhao.lib.outlets import load_outlets

    settings_of = run.crawl_settings

    def dying(*args: Any, **kwargs: Any) -> dict[str, Any]:
        settings = settings_of(*args, **kwargs)
        middlewares = {**settings["SPIDER_MIDDLEWARES"], f"{__name__}.DieOnceParsed": 5}
        return {**settings, "SPIDER_MIDDLEWARES": middlewares}

    DieOnceParsed.url = url
    run.crawl_settings = dying
    run.crawl(load_outlets(outlets), warc, user_agent=UA, state_dir=home, redis_url=redis_url,
              redis_prefix=prefix)  # fmt: skip


def test_requests_of_a_page_parsed_just_before_kill_9_are_in_redis(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    web = SampleWeb(articles=12, seed=4).start()
    warc = tmp_path / "warc"
    try:
        outlets = tmp_path / "outlets"
        write_outlets(outlets, web.url)
        article = next(a for a in manifest(web) if a["images"] and len(a["pages"]) > 1)
        code = "import sys; from pathlib import Path; from tests.crawler.test_distributed import "
        code += "crawl_then_die as f; f(*map(Path, sys.argv[1:4]), *sys.argv[4:])"
        args = [str(outlets), str(warc), str(tmp_path), redis_url, redis_prefix, article["url"]]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        killed = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=300)  # fmt: skip
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
        command = [sys.executable, "-m", "kuaizhao.crawler", "--outlets", str(outlets)]
        command += ["--warc-dir", str(warc), "--user-agent", UA, "--state-dir", str(tmp_path)]
        command += ["--redis-url", redis_url, "--redis-prefix", redis_prefix]
        second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=300)  # fmt: skip
        assert second.returncode == 0, second.stderr[-3000:]
    finally:
        web.stop()
    fetched = Counter(c.url for c in captures(warc) if c.status == 200)
    assert fetched[article["url"]] >= 1
    derived = article["pages"][1:] + [image["src"] for image in article["images"]]
    assert [url for url in derived if not fetched[url]] == []  # nothing lost


def redis_scheduler(tmp_path: Path, redis_url: str, prefix: str) -> Any:
    """A crawler's scheduler as ``run.crawl`` sets it up with Redis: seen filter, leased queue."""
    import redis
    from scrapy.utils.test import get_crawler
    from scrapy_redis.scheduler import Scheduler

    from kuaizhao.crawler.run import crawl_settings
    from kuaizhao.crawler.spider import OutletSpider
    from kuaizhao.crawler.state import Schedule, open_state

    settings = crawl_settings([], tmp_path, user_agent=UA, redis_url=redis_url,
                              redis_prefix=prefix)  # fmt: skip
    crawler = get_crawler(OutletSpider, {**settings, "KUAIZHAO_SEEN_CAPACITY": 10_000})
    state = open_state(tmp_path, Schedule(), redis_url, prefix)
    client = redis.Redis.from_url(redis_url)
    crawler.spider = OutletSpider.from_crawler(crawler, outlets=[], state=state, redis=client)
    scheduler = Scheduler.from_crawler(crawler)
    scheduler.open(crawler.spider)
    return scheduler


@pytest.mark.filterwarnings("ignore:Passing a 'spider' argument")  # scrapy-redis's scheduler
def test_a_request_marked_seen_in_redis_is_in_the_queue(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    import redis
    from scrapy import Request

    from kuaizhao.crawler.seen import KIND_META, OUTLET_META, SOURCE_META, _positions

    client = redis.Redis.from_url(redis_url)
    one, two = (redis_scheduler(tmp_path, redis_url, redis_prefix) for _ in range(2))
    queue = f"{redis_prefix}:requests"

    def image(n: int) -> Request:
        return Request(f"http://example.org/{n}.png", meta={KIND_META: "image", OUTLET_META: "x"})

    def queued() -> list[str]:
        return sorted(one.queue._decode_request(data).url for data in client.zrange(queue, 0, -1))

    def marked(n: int) -> bool:  # every Bloom bit of the URL is set in Redis
        bloom = one.df.bloom
        bits = _positions(image(n).url, bloom.bits, bloom.hashes)
        return all(client.getbit(bloom.key, bit) for bit in bits)

    # A crawler killed once the seen filter has let the request through, before its push:
    # nothing is marked, so the page that yields it again when fetched again is not filtered.
    assert not one.df.request_seen(image(1))
    assert not marked(1) and queued() == []
    # The push fails (a Redis error): nothing marked either.
    client.set(queue, "not a sorted set")
    with pytest.raises(redis.ResponseError):
        one.enqueue_request(image(1))
    assert not marked(1)
    client.delete(queue)
    # Pushed: queued and marked in one step; the same request from any crawler is filtered.
    assert one.enqueue_request(image(1))
    assert marked(1) and queued() == [image(1).url]
    assert not two.enqueue_request(image(1)) and not one.enqueue_request(image(1))
    # Two crawlers let the same new request through before either pushed it: queued once.
    first, second = image(2), image(2)
    assert not one.df.request_seen(first) and not two.df.request_seen(second)
    one.queue.push(first)
    two.queue.push(second)
    assert marked(2) and queued() == [image(1).url, image(2).url]
    # Captured in an earlier run: filtered, and marked (no push will mark it).
    client.hset(f"{redis_prefix}:url", image(3).url, "200")
    assert not one.enqueue_request(image(3))
    assert marked(3) and image(3).url not in queued()
    # List pages stay out of the Bloom filter (a time window lets them through again).
    page = Request("http://example.org/list.html", meta={KIND_META: "page", SOURCE_META: True})
    assert one.enqueue_request(page) and page.url in queued()
    assert client.bitcount(one.df.bloom.key) == 3 * one.df.bloom.hashes  # the 3 images only
    client.close()
