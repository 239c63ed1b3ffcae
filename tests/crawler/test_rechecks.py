"""A re-check of a later page of a multi-page article is that page of that article."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kuaizhao.crawler.state import STATE_FILE, CrawlState, Fetch, Pending, RedisState, SqliteState
from kuaizhao.sampleweb.config import write_outlets
from kuaizhao.sampleweb.server import SampleWeb
from tests.crawler.test_crawl import ROOT, UA, run_crawler
from tests.crawler.test_resume import captures, control, manifest

FIRST = "http://example.org/a/1.html"
PAGES = [FIRST, "http://example.org/a/1_2.html", "http://example.org/a/1_3.html"]


def fetched(state: CrawlState, url: str, article: str | None = None) -> None:
    kind = "article" if url == FIRST else "part"
    state.record(Fetch(url, "x", kind, 200, "sha1:A", "response", None, None, 1000.0,
                       article=article))  # fmt: skip


def due_pages(state: CrawlState) -> list[Pending]:
    return sorted(state.due_rechecks(10**9, 10), key=lambda p: p.url)


def test_sqlite_rechecks_name_the_article_of_a_later_page(tmp_path: Path) -> None:
    state = SqliteState(tmp_path / "s.sqlite3")
    fetched(state, FIRST)
    # As a crawl records them: the pending entry names the article, the fetch too.
    state.add_pending([Pending(PAGES[1], "x", "part", FIRST)])
    fetched(state, PAGES[1])
    fetched(state, PAGES[2], article=FIRST)
    assert due_pages(state) == [
        Pending(FIRST, "x", "article"),
        Pending(PAGES[1], "x", "part", FIRST),
        Pending(PAGES[2], "x", "part", FIRST),
    ]
    state.close()


def test_redis_rechecks_name_the_article_of_a_later_page(redis_url: str, redis_prefix: str) -> None:
    import redis

    state = RedisState(redis.Redis.from_url(redis_url), redis_prefix)
    try:
        fetched(state, FIRST)
        fetched(state, PAGES[1], article=FIRST)
        assert due_pages(state) == [
            Pending(FIRST, "x", "article"),
            Pending(PAGES[1], "x", "part", FIRST),
        ]
        # An entry written before later pages kept their article ("outlet kind").
        state.r.hset(f"{redis_prefix}:outlet", PAGES[1], "x\tpart")
        state.r.zadd(f"{redis_prefix}:recheck", {PAGES[1]: 0})
        assert due_pages(state) == [Pending(PAGES[1], "x", "part")]
    finally:
        state.close()


def recheck_kwargs(outlets: Path, warc: Path, state: SqliteState) -> dict[str, dict[str, Any]]:
    """The callback arguments of the re-checks a crawler would make now."""
    from scrapy.utils.test import get_crawler

    from kuaizhao.crawler.run import crawl_settings
    from kuaizhao.crawler.spider import OutletSpider
    from kuaizhao.lib.outlets import load_outlets

    every = load_outlets(outlets)
    crawler = get_crawler(OutletSpider, crawl_settings(every, warc, user_agent=UA))
    spider = OutletSpider.from_crawler(crawler, outlets=every, state=state)
    crawler.spider = spider
    return {r.url: dict(r.cb_kwargs) for r in spider.due_requests(10**10)}


def ingest(home: Path, outlets: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KUAIZHAO_HOME": str(home)}
    env.pop("KUAIZHAO_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "kuaizhao", "ingest", "--outlets", str(outlets)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.e2e
def test_a_recheck_of_a_later_page_is_filed_under_its_article(tmp_path: Path) -> None:
    """Page 2 of a 3-page article is re-checked as page 2 of the first page's article, and an
    edit of it gives that article a new version on ingest, not a new article."""
    web = SampleWeb(articles=40, seed=5).start()
    home = tmp_path / "home"
    outlets = tmp_path / "outlets"
    warc = home / "warc"
    try:
        write_outlets(outlets, web.url)
        article = next(a for a in manifest(web) if len(a["pages"]) == 3)
        first, second, third = article["pages"]
        only = ("--state-dir", str(home), "--only", article["outlet"], "--recheck-after", "0")
        run_crawler(outlets, warc, *only)
        ingest(home, outlets)
        with (
            sqlite3.connect(home / STATE_FILE) as on_disk,
            sqlite3.connect(tmp_path / "copy.sqlite3") as copy,
        ):
            on_disk.backup(copy)  # making the re-checks claims them: a copy keeps them due
        state = SqliteState(tmp_path / "copy.sqlite3")
        due = recheck_kwargs(outlets, warc, state)
        state.close()
        assert {k: v for k, v in due[second].items() if k != "slug"} == {
            "article": first, "part": 2,
        }  # fmt: skip
        assert due[third]["article"] == first and due[third]["part"] == 3
        page = next(c for c in captures(warc) if c.url == first).payload.decode()
        paragraphs = [f"第{n}段：本段文字已经修改，以更正后的内容为准。" for n in range(1, 13)]
        control(web, "edit", {"id": article["id"], "text": "\n".join(paragraphs)})
        run_crawler(outlets, warc, *only)
        ingest(home, outlets)
    finally:
        web.stop()
    assert "第1段" not in page
    again = [c.url for c in captures(warc) if c.status == 200 and c.record_type == "response"]
    assert again.count(second) == 2  # re-checked and edited
    with sqlite3.connect(home / STATE_FILE) as db:
        filed = dict(db.execute("SELECT url, article FROM url WHERE kind = 'part'"))
    assert filed[second] == filed[third] == first
    with sqlite3.connect(home / "kuaizhao.sqlite3") as db:
        rows = db.execute(
            "SELECT a.url, COUNT(v.id) FROM archive_article a JOIN archive_articleversion v"
            " ON v.article_id = a.id WHERE a.url LIKE ? GROUP BY a.url",
            (first.rsplit(".", 1)[0] + "%",),
        ).fetchall()
        body = db.execute(
            "SELECT v.body_text FROM archive_articleversion v JOIN archive_article a"
            " ON v.article_id = a.id WHERE a.url = ? ORDER BY v.captured_at DESC",
            (first,),
        ).fetchone()[0]
    assert rows == [(first, 2)]  # one article, a second version
    assert "第8段" in body  # what page 2 says now, merged into its article
