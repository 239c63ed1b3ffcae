"""A fetch that failed for now (5xx, 408, 429) is tried again on the next run, up to a bound;
a 404 or 410 is final."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from kuaizhao.crawler.progress import read_all
from kuaizhao.crawler.state import (
    FAILED_FETCHES,
    NO_ANSWER,
    STATE_FILE,
    Fetch,
    Pending,
    SqliteState,
)
from kuaizhao.sampleweb.config import write_outlets
from kuaizhao.sampleweb.server import SampleWeb
from tests.crawler.test_crawl import run_crawler
from tests.crawler.test_resume import captures, control, manifest

IMAGE = Pending("http://example.org/1.png", "x", "image")


def answered(state: SqliteState, status: int, at: float = 1.0) -> None:
    state.record(Fetch(IMAGE.url, "x", "image", status, None, "response", None, None, at, "w", 0))


@pytest.mark.parametrize("status", [503, 500, 408, 429])
def test_a_failed_fetch_stays_pending_on_disk_until_it_fails_too_often(
    tmp_path: Path, status: int
) -> None:
    state = SqliteState(tmp_path / "s.sqlite3")
    state.add_pending([IMAGE])
    answered(state, status)
    # What a crawler killed before Scrapy's retry (or started for the next run) reads.
    restarted = SqliteState(tmp_path / "s.sqlite3")
    assert not restarted.is_done(IMAGE.url)
    assert restarted.pending() == [IMAGE]
    restarted.close()
    for n in range(2, FAILED_FETCHES + 1):
        answered(state, status, at=float(n))
    assert state.is_done(IMAGE.url)  # given up
    assert state.pending() == []
    state.close()


@pytest.mark.parametrize("status", [404, 410, 200])
def test_a_final_answer_is_done_at_once(tmp_path: Path, status: int) -> None:
    state = SqliteState(tmp_path / "s.sqlite3")
    state.add_pending([IMAGE])
    answered(state, 503)
    answered(state, status, at=2.0)
    assert state.is_done(IMAGE.url)
    assert state.pending() == []
    state.add_pending([IMAGE])  # found again on another page
    state.mark_expanded("http://example.org/a.html", [IMAGE])
    assert state.pending() == []
    state.close()


def test_a_state_file_of_an_earlier_version_tries_its_failed_fetches_again(
    tmp_path: Path,
) -> None:
    state = SqliteState(tmp_path / "s.sqlite3")
    state.add_pending([IMAGE])
    answered(state, 503)
    state.db.execute("ALTER TABLE url DROP COLUMN failures")
    state.close()
    again = SqliteState(tmp_path / "s.sqlite3")
    assert not again.is_done(IMAGE.url)
    assert again.pending() == [IMAGE]
    again.close()


@pytest.mark.e2e
def test_an_image_that_answered_503_is_fetched_on_the_next_run(tmp_path: Path) -> None:
    web = SampleWeb(articles=12, seed=3).start()
    try:
        outlets = tmp_path / "outlets"
        write_outlets(outlets, web.url)
        warc = tmp_path / "warc"
        article = next(a for a in manifest(web) if a["images"])
        image = article["images"][0]["src"]
        path = "/" + image.split("/", 3)[3]
        control(web, "fault", {"path": path, "status": 503})
        only = ("--state-dir", str(tmp_path), "--only", article["outlet"])
        run_crawler(outlets, warc, *only)
        assert {c.status for c in captures(warc) if c.url == image} == {503}
        control(web, "fault", {"path": path, "clear": True})
        second = run_crawler(outlets, warc, *only)
    finally:
        web.stop()
    statuses = Counter(c.status for c in captures(warc) if c.url == image)
    assert statuses[200] == 1
    assert second["already_captured"] > 0  # what succeeded is not fetched again


def test_a_download_with_no_answer_counts_every_try_it_stands_for(tmp_path: Path) -> None:
    state = SqliteState(tmp_path / "s.sqlite3")
    state.add_pending([IMAGE])
    no_answer = Fetch(IMAGE.url, "x", "image", NO_ANSWER, None, None, None, None, 1.0, tries=3)
    state.record(no_answer)
    assert not state.is_done(IMAGE.url) and state.pending() == [IMAGE]
    state.record(no_answer)
    assert state.is_done(IMAGE.url) and state.pending() == []  # two runs of three tries
    state.close()


NO_ANSWERS = {
    "never answering": {"delay": 600.0},
    "slow drip": {"drip": 0.5, "drip_bytes": 8},
}


def failures_on_disk(home: Path, url: str) -> tuple[int, bool]:
    """(failed tries in a row, still pending) for ``url`` in the crawl state on disk."""
    with sqlite3.connect(home / STATE_FILE) as db:
        row = db.execute("SELECT status, failures FROM url WHERE url = ?", (url,)).fetchone()
        pending = db.execute("SELECT 1 FROM frontier WHERE url = ?", (url,)).fetchone()
    assert row is None or row[0] == NO_ANSWER
    return (row[1] if row else 0), pending is not None


@pytest.mark.e2e
@pytest.mark.parametrize("fault", list(NO_ANSWERS))
def test_an_image_that_never_answers_in_time_is_given_up_after_two_runs(
    tmp_path: Path, fault: str
) -> None:
    web = SampleWeb(articles=12, seed=3).start()
    log = tmp_path / "crawl.log"
    try:
        outlets = tmp_path / "outlets"
        write_outlets(outlets, web.url)
        warc = tmp_path / "warc"
        article = next(a for a in manifest(web) if a["images"])
        image = article["images"][0]["src"]
        control(web, "fault", {"path": "/" + image.split("/", 3)[3], **NO_ANSWERS[fault]})
        only = ("--state-dir", str(tmp_path), "--only", article["outlet"], "--timeout", "1")
        runs = []
        for _ in range(3):
            runs.append(run_crawler(outlets, warc, *only, "--log-file", str(log)))
            runs[-1]["state"] = failures_on_disk(tmp_path, image)
            runs[-1]["tried"] = log.read_text(encoding="utf-8").count(f"failed {image}")
            outlet_stats = read_all(tmp_path)[0]["per_outlet"][article["outlet"]]  # this run's
            runs[-1]["outlet_errors"] = outlet_stats["errors"]
    finally:
        web.stop()
    assert [run["state"] for run in runs] == [(3, True), (6, False), (6, False)]
    assert [run["tried"] for run in runs] == [1, 2, 2]  # not tried by the third run
    assert [(run["errors"], run["outlet_errors"]) for run in runs] == [(1, 1), (1, 1), (0, 0)]
    assert [c for c in captures(warc) if c.url == image] == []  # no WARC record


def test_tries_answered_with_a_failure_are_not_counted_again_when_the_last_gets_none(
    tmp_path: Path,
) -> None:
    """503, 503, then a timeout: the recorder counted two failed answers, the errback adds
    the one try that got no answer."""
    from scrapy import Request
    from scrapy.utils.test import get_crawler
    from twisted.internet.error import TimeoutError as Timeout
    from twisted.python.failure import Failure

    from kuaizhao.crawler.middlewares import ANSWERED_META, KIND_META
    from kuaizhao.crawler.safety import OUTLET_META
    from kuaizhao.crawler.spider import OutletSpider

    state = SqliteState(tmp_path / "s.sqlite3")
    state.add_pending([IMAGE])
    answered(state, 503)
    answered(state, 503, at=2.0)
    crawler = get_crawler(OutletSpider)
    spider = OutletSpider.from_crawler(crawler, outlets=[], state=state)
    meta = {KIND_META: "image", OUTLET_META: "x", "retry_times": 2, ANSWERED_META: 2}
    failure = Failure(Timeout())
    failure.request = Request(IMAGE.url, meta=meta)  # type: ignore[attr-defined]
    spider.on_error(failure)
    (failures,) = state.db.execute("SELECT failures FROM url").fetchone()
    assert failures == 3
    assert crawler.stats.get_value("kuaizhao/outlet/x/errors") == 1
    state.close()
