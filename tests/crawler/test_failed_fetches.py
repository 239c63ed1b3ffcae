"""A fetch that failed for now (5xx, 408, 429) is tried again on the next run, up to a bound;
a 404 or 410 is final."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from kuaizhao.crawler.state import FAILED_FETCHES, Fetch, Pending, SqliteState
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
