"""The crawl state stores and their schedules."""

from __future__ import annotations

from pathlib import Path

import pytest

from kuaizhao.crawler.politeness import retry_after
from kuaizhao.crawler.state import (
    RECHECK_MAX,
    CrawlState,
    Fetch,
    Pending,
    RedisState,
    Schedule,
    SqliteState,
    next_interval,
    source_interval,
)

SCHEDULE = Schedule(recheck_after=100.0, list_min=60.0, list_max=3600.0)


def test_article_rechecks_back_off_and_reset_on_change() -> None:
    assert next_interval(None, False, SCHEDULE) == 100.0
    assert next_interval(100.0, False, SCHEDULE) == 200.0
    assert next_interval(RECHECK_MAX, False, SCHEDULE) == RECHECK_MAX
    assert next_interval(800.0, True, SCHEDULE) == 100.0


def test_busy_sources_are_visited_more_often_quiet_ones_less() -> None:
    assert source_interval(None, 0, SCHEDULE) == 60.0
    assert source_interval(600.0, 5, SCHEDULE) == 300.0
    assert source_interval(600.0, 0, SCHEDULE) == 1200.0
    assert source_interval(60.0, 9, SCHEDULE) == 60.0
    assert source_interval(3000.0, 0, SCHEDULE) == 3600.0


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after(b"3") == 3.0
    assert retry_after(None) is None


def fetch(url: str, status: int = 200, record: str = "response", at: float = 1000.0) -> Fetch:
    return Fetch(url, "x", "article", status, "sha1:AAA", record, '"e1"', None, at)


def exercise(state: CrawlState) -> None:
    url = "http://example.org/a/1.html"
    assert not state.is_done(url)
    state.record(fetch(url))
    assert state.is_done(url)
    assert state.validators(url) == ('"e1"', None)
    assert state.due_rechecks(1050.0, 10) == []
    assert state.due_rechecks(1100.0, 10) == [Pending(url, "x", "article")]
    assert state.due_rechecks(1100.0, 10) == []  # claimed
    assert (url, "sha1:AAA") in state.known_digests(2000.0)
    state.record(fetch(url, status=304, at=1100.0))
    assert state.due_rechecks(1250.0, 10) == []  # interval doubled to 200
    assert state.due_rechecks(1300.0, 10) == [Pending(url, "x", "article")]
    state.record(fetch(url, status=404, at=1300.0))
    assert state.due_rechecks(10**9, 10) == []  # gone: no more re-checks
    assert state.claim_source("http://example.org/", "x", "page", 0.0)
    state.visited_source("http://example.org/", 3, 10.0)
    assert state.due_sources(30.0) == []
    assert state.due_sources(100.0) == [Pending("http://example.org/", "x", "page")]
    state.commit()


def test_sqlite_state(tmp_path: Path) -> None:
    state = SqliteState(tmp_path / "s.sqlite3", SCHEDULE)
    exercise(state)
    state.add_pending([Pending("http://example.org/a/2.html", "x", "article")])
    state.commit()
    state.close()
    again = SqliteState(tmp_path / "s.sqlite3", SCHEDULE)
    assert again.pending() == [Pending("http://example.org/a/2.html", "x", "article")]
    again.close()


def test_redis_state(redis_url: str, redis_prefix: str) -> None:
    import redis

    state = RedisState(redis.Redis.from_url(redis_url), redis_prefix, SCHEDULE)
    try:
        exercise(state)
    finally:
        state.close()


@pytest.mark.parametrize("status", [503, 429])
def test_a_server_error_is_tried_again_later(tmp_path: Path, status: int) -> None:
    state = SqliteState(tmp_path / "s.sqlite3", SCHEDULE)
    state.record(fetch("http://example.org/b.html", status=status))
    assert state.due_rechecks(1100.0, 10) == [Pending("http://example.org/b.html", "x", "article")]
    state.close()


def test_a_capture_written_just_before_a_crash_is_not_fetched_again(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from kuaizhao.warc import WarcWriter, iter_captures

    url = "http://example.org/a/3.html"
    state = SqliteState(tmp_path / "s.sqlite3", SCHEDULE)
    state.add_pending([Pending(url, "x", "article")])
    with WarcWriter(tmp_path / "warc") as writer:
        writer.write_capture(
            url=url, method="GET", request_headers=[], status=200, reason="OK",
            response_headers=[("ETag", '"v1"')], body=b"<p>x</p>", captured_at=datetime.now(UTC),
        )  # fmt: skip
    assert state.reconcile(iter_captures(writer.closed_files[0])) == 1
    assert state.is_done(url) and state.pending() == []
    assert state.validators(url) == ('"v1"', None)
    assert [p.url for p, _, _ in state.unexpanded()] == [url]  # its links are read again
    state.close()
