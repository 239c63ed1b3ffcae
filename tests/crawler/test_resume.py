"""Crawl state across runs: kill -9 and resume, re-checks of edited and unchanged articles."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kuaizhao.crawler.recover import recover_open_files
from kuaizhao.sampleweb.config import write_outlets
from kuaizhao.sampleweb.server import SampleWeb
from kuaizhao.warc import WarcCapture, WarcWriter, iter_captures, list_warc_files
from tests.crawler.test_crawl import ROOT, UA, run_crawler

pytestmark = pytest.mark.e2e


def control(web: SampleWeb, name: str, data: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        web.url + f"_control/{name}", data=json.dumps(data).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def manifest(web: SampleWeb) -> list[dict[str, Any]]:
    with urllib.request.urlopen(web.url + "_control/manifest", timeout=30) as response:
        return list(json.load(response)["articles"])


def captures(warc_dir: Path) -> list[WarcCapture]:
    return [c for p in list_warc_files(warc_dir) for c in iter_captures(p)]


def slow_outlets(directory: Path, web: SampleWeb, delay: float) -> Path:
    """The sample outlets, one request at a time with ``delay`` between them."""
    for path in write_outlets(directory, web.url):
        text = Path(path).read_text(encoding="utf-8")
        text = text.replace("concurrency = 4", "concurrency = 1")
        Path(path).write_text(text.replace("delay = 0.0", f"delay = {delay}"), encoding="utf-8")
    return directory


@pytest.fixture
def web() -> Iterator[SampleWeb]:
    server = SampleWeb(articles=24, seed=11).start()
    try:
        yield server
    finally:
        server.stop()


def test_kill_9_then_resume_fetches_no_completed_capture_again(tmp_path: Path) -> None:
    web = SampleWeb(articles=40, seed=5).start()
    try:
        outlets = slow_outlets(tmp_path / "outlets", web, 0.01)
        warc = tmp_path / "warc"
        command = [sys.executable, "-m", "kuaizhao.crawler", "--outlets", str(outlets)]
        command += ["--warc-dir", str(warc), "--user-agent", UA, "--state-dir", str(tmp_path)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while web.app.stats["article"] < 25 and time.monotonic() < deadline:
            assert process.poll() is None, "the crawl ended before it could be killed"
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert list(warc.glob("*.open")), "a killed crawler leaves its WARC file open"

        stats = run_crawler(outlets, warc, "--state-dir", str(tmp_path))
        articles = manifest(web)
    finally:
        web.stop()
    assert stats["recovered"]
    assert stats["already_captured"] > 0
    assert not list(warc.glob("*.open"))
    wanted = {page for a in articles for page in a["pages"]}
    wanted |= {image["src"] for a in articles for image in a["images"]}
    fetched = Counter(c.url for c in captures(warc) if c.url in wanted)
    assert set(fetched) == wanted  # nothing lost
    twice = [
        (c.url, c.warc_file, c.captured_at) for c in captures(warc) if fetched.get(c.url, 0) > 1
    ]
    assert twice == []  # nothing fetched twice


def parse_then_die(
    outlets: Path, warc: Path, home: Path, url: str, article: str = "", parse: str = "yes"
) -> None:
    """Fetch and record the article page at ``url`` (a later page of ``article`` if given) as
    a crawl does, run its callback to its end (unless ``parse`` is "no"), then ``kill -9``
    this process.

    That is the moment Scrapy's engine reaches when a crawler dies: the callback has returned
    (and marked the page parsed) but the requests it yielded are still in the engine's queue,
    not yet scheduled. Runs in a child process (see below).
    """
    from scrapy.http import HtmlResponse
    from scrapy.utils.test import get_crawler

    from kuaizhao.crawler.middlewares import KIND_META, WarcRecorderMiddleware
    from kuaizhao.crawler.run import crawl_settings
    from kuaizhao.crawler.safety import OUTLET_META
    from kuaizhao.crawler.seen import pending_of
    from kuaizhao.crawler.spider import OutletSpider
    from kuaizhao.crawler.state import STATE_FILE, SqliteState
    from kuaizhao.lib.outlets import load_outlets, outlet_for

    every = load_outlets(outlets)
    outlet = outlet_for(url, every)
    assert outlet is not None
    settings = crawl_settings(every, warc, user_agent=UA)
    crawler = get_crawler(OutletSpider, settings)
    state = SqliteState(home / STATE_FILE)
    spider = OutletSpider.from_crawler(crawler, outlets=every, state=state)
    crawler.spider = spider
    recorder = WarcRecorderMiddleware.from_crawler(crawler)
    request = spider.article_request(outlet, url, article=article or None)
    kind = "part" if article else "article"
    assert request.meta[KIND_META] == kind and request.meta[OUTLET_META] == outlet.slug
    state.add_pending([pending_of(request)])  # as the seen filter does when it is scheduled
    with urllib.request.urlopen(url, timeout=30) as answer:
        headers = {name: value for name, value in answer.getheaders()}
        response = HtmlResponse(url, status=answer.status, headers=headers, body=answer.read(),
                                request=request)  # fmt: skip
    recorder.process_response(request, response)
    if parse == "yes":
        derived = list(spider.parse_article(response, **request.cb_kwargs))
        assert derived  # made, not yet scheduled
    os.kill(os.getpid(), signal.SIGKILL)


def die_in(code: str, *args: str) -> None:
    """Run ``code`` (it ends with ``kill -9``) in a child Python."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    killed = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]


def test_requests_of_an_article_parsed_just_before_kill_9_are_resumed(tmp_path: Path) -> None:
    web = SampleWeb(articles=40, seed=5).start()
    try:
        outlets = tmp_path / "outlets"
        write_outlets(outlets, web.url)
        warc = tmp_path / "warc"
        article = next(a for a in manifest(web) if a["images"] and len(a["pages"]) > 1)
        code = "import sys; from pathlib import Path; from tests.crawler.test_resume import "
        code += "parse_then_die as f; f(*map(Path, sys.argv[1:4]), sys.argv[4])"
        die_in(code, str(outlets), str(warc), str(tmp_path), article["url"])
        assert [c.url for c in captures(warc)] == []  # only the open file of the dead crawler
        assert len(list(warc.glob("*.open"))) == 1
        only = ("--only", article["outlet"])
        stats = run_crawler(outlets, warc, "--state-dir", str(tmp_path), *only)
    finally:
        web.stop()
    assert stats["recovered"]
    fetched = Counter(c.url for c in captures(warc))
    derived = article["pages"] + [image["src"] for image in article["images"]]
    assert {url: fetched[url] for url in derived} == dict.fromkeys(derived, 1)


def test_an_edited_article_is_captured_again_an_unchanged_one_is_not(
    tmp_path: Path, web: SampleWeb
) -> None:
    outlets = tmp_path / "outlets"
    write_outlets(outlets, web.url)
    warc = tmp_path / "warc"
    args = ("--state-dir", str(tmp_path), "--recheck-after", "0")
    run_crawler(outlets, warc, *args)
    edited, unchanged = manifest(web)[3], manifest(web)[4]
    control(web, "edit", {"id": edited["id"], "text": "更正：本文第二段数字有误，已修改。"})
    second = run_crawler(outlets, warc, *args)

    def history(url: str) -> list[tuple[str, int]]:
        return [(c.record_type, c.status) for c in captures(warc) if c.url == url]

    versions = [c for c in captures(warc) if c.url == edited["url"] and c.status == 200]
    assert [c.record_type for c in versions] == ["response", "response"]
    assert versions[0].payload_digest != versions[1].payload_digest
    assert "更正" in versions[1].payload.decode("utf-8", "replace")
    assert history(unchanged["url"]) == [("response", 200), ("revisit", 304)]
    assert second["not_modified"] > 0


def test_a_304_is_stored_as_a_server_not_modified_revisit_the_catalogue_counts(
    tmp_path: Path, web: SampleWeb
) -> None:
    home = tmp_path / "home"
    outlets = tmp_path / "outlets"
    write_outlets(outlets, web.url)
    warc = home / "warc"
    args = ("--state-dir", str(home), "--recheck-after", "0")
    run_crawler(outlets, warc, *args)
    second = run_crawler(outlets, warc, *args)
    article = manifest(web)[5]
    first, again = [c for c in captures(warc) if c.url == article["url"]]
    assert (first.record_type, first.status) == ("response", 200)
    assert (again.record_type, again.status) == ("revisit", 304)
    assert again.refers_to_uri == article["url"]
    assert again.refers_to_date == first.captured_at
    assert again.payload_digest == first.payload_digest  # so replay finds the full response
    record = {name.lower(): value for name, value in raw_headers(warc, again)}
    assert record["warc-profile"].endswith("/revisit/server-not-modified")
    assert record["warc-refers-to"] == first.record_id
    assert second["revisits"] >= 1 and second["not_modified"] >= 1

    env = {**os.environ, "PYTHONPATH": str(ROOT), "KUAIZHAO_HOME": str(home)}
    env.pop("KUAIZHAO_DATABASE_URL", None)
    ingest = subprocess.run(
        [sys.executable, "-m", "kuaizhao", "ingest", "--outlets", str(outlets)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ingest.returncode == 0, ingest.stderr[-3000:]
    assert "unchanged" in ingest.stderr
    with sqlite3.connect(home / "kuaizhao.sqlite3") as db:
        kinds = db.execute(
            "SELECT record_type, status FROM archive_capture WHERE url = ? ORDER BY captured_at",
            (article["url"],),
        ).fetchall()
        last = db.execute(
            "SELECT last_captured_at FROM archive_article WHERE url = ?", (article["url"],)
        ).fetchone()[0]
    assert kinds == [("response", 200), ("revisit", 304)]
    assert datetime.fromisoformat(last).replace(tzinfo=UTC) == again.captured_at


def raw_headers(warc_dir: Path, capture: WarcCapture) -> list[tuple[str, str]]:
    from warcio.archiveiterator import ArchiveIterator

    with (warc_dir / capture.warc_file).open("rb") as fh:
        fh.seek(capture.offset)
        record = next(iter(ArchiveIterator(fh)))
        return [(str(k), str(v)) for k, v in record.rec_headers.headers]


def test_an_unchanged_article_without_validators_becomes_a_revisit(
    tmp_path: Path, web: SampleWeb
) -> None:
    article = manifest(web)[2]
    path = "/" + article["url"].split("/", 3)[3]
    control(web, "fault", {"path": path, "kind": "no_validators"})
    outlets = tmp_path / "outlets"
    write_outlets(outlets, web.url)
    warc = tmp_path / "warc"
    args = ("--state-dir", str(tmp_path), "--recheck-after", "0")
    run_crawler(outlets, warc, *args)
    second = run_crawler(outlets, warc, *args)  # a new process: digests come from the state
    records = [c for c in captures(warc) if c.url == article["url"]]
    assert [(c.record_type, c.status) for c in records] == [("response", 200), ("revisit", 200)]
    assert records[1].refers_to_uri == article["url"]
    assert records[1].payload_digest == records[0].payload_digest
    assert second["revisits"] >= 1


def test_recovery_keeps_complete_captures_and_cuts_a_torn_tail(tmp_path: Path) -> None:
    with WarcWriter(tmp_path / "w") as writer:
        for n in range(3):
            writer.write_capture(
                url=f"http://example.org/{n}.html", method="GET", request_headers=[],
                status=200, reason="OK", response_headers=[("Content-Type", "text/html")],
                body=f"<p>{n}</p>".encode(), captured_at=datetime.now(UTC),
            )  # fmt: skip
    (closed,) = writer.closed_files
    crashed = tmp_path / (closed.name.replace(f"-{os.getpid()}-", "-999999999-") + ".open")
    crashed.write_bytes(closed.read_bytes() + b"\x1f\x8b\x08\x00torn")
    recovered = recover_open_files(tmp_path)
    assert len(recovered) == 1 and recovered[0].cut == 8
    assert [c.url for c in iter_captures(recovered[0].path)] == [
        f"http://example.org/{n}.html" for n in range(3)
    ]
    assert not list(tmp_path.glob("*.open"))


def test_a_file_of_a_running_writer_is_left_alone(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as writer:
        writer.write_capture(
            url="http://example.org/", method="GET", request_headers=[], status=200,
            reason="OK", response_headers=[], body=b"x", captured_at=datetime.now(UTC),
        )  # fmt: skip
        assert recover_open_files(tmp_path) == []
        assert writer.current_file is not None and writer.current_file.exists()


def frontier_on_disk(path: Path) -> list[tuple[str, str]]:
    """The pending frontier a crawler restarted after ``kill -9`` would read."""
    with sqlite3.connect(path) as db:
        return db.execute("SELECT url, kind FROM frontier ORDER BY rowid").fetchall()


def test_derived_requests_are_pending_on_disk_when_the_page_counts_as_parsed(
    tmp_path: Path,
) -> None:
    from kuaizhao.crawler.state import Fetch, Pending, SqliteState

    state = SqliteState(tmp_path / "s.sqlite3")
    page, done, new = (f"http://example.org/{name}" for name in ("a.html", "1.png", "2.png"))
    for url, kind in ((page, "article"), (done, "image")):
        fetch = Fetch(url, "x", kind, 200, "sha1:A", "response", None, None, 1.0, "w.warc.gz", 0)
        state.record(fetch)
    assert [p.url for p, _, _ in state.unexpanded()] == [page]
    state.mark_expanded(page, [Pending(done, "x", "image"), Pending(new, "x", "image")])
    assert frontier_on_disk(tmp_path / "s.sqlite3") == [(new, "image")]  # the captured one not
    assert state.unexpanded() == []
    state.close()


def test_a_redirect_target_is_pending_on_disk_once_scheduled(tmp_path: Path) -> None:
    from scrapy import Request
    from scrapy.utils.test import get_crawler

    from kuaizhao.crawler.seen import KIND_META, OUTLET_META, SeenFilter
    from kuaizhao.crawler.spider import OutletSpider
    from kuaizhao.crawler.state import SqliteState

    state = SqliteState(tmp_path / "s.sqlite3")
    crawler = get_crawler(OutletSpider)
    crawler.spider = OutletSpider.from_crawler(crawler, outlets=[], state=state)
    seen = SeenFilter(crawler)
    meta = {KIND_META: "image", OUTLET_META: "x"}
    linked = Request("http://example.org/1.png", meta=meta)
    assert not seen.request_seen(linked)
    assert frontier_on_disk(tmp_path / "s.sqlite3") == []  # committed with its page's capture
    moved = Request("http://example.org/2.png", meta={**meta, "redirect_urls": [linked.url]})
    assert not seen.request_seen(moved)
    # The 3xx is recorded as done; nothing would derive the new address again after a kill.
    assert frontier_on_disk(tmp_path / "s.sqlite3") == [(linked.url, "image"), (moved.url, "image")]
    state.close()


def test_a_later_page_parsed_again_after_a_restart_keeps_its_article(tmp_path: Path) -> None:
    """A later page captured just before a kill, its links not read yet, is parsed again from
    its WARC record on restart: as a page of its article (the first page), not of its own."""
    from scrapy.utils.test import get_crawler

    from kuaizhao.crawler.run import crawl_settings
    from kuaizhao.crawler.spider import OutletSpider
    from kuaizhao.crawler.state import STATE_FILE, Pending, SqliteState
    from kuaizhao.lib.outlets import load_outlets

    web = SampleWeb(articles=40, seed=5).start()
    try:
        outlets = tmp_path / "outlets"
        write_outlets(outlets, web.url)
        warc = tmp_path / "warc"
        article = next(a for a in manifest(web) if len(a["pages"]) > 2)
        first, second, third = article["pages"][:3]
        code = "import sys; from pathlib import Path; from tests.crawler.test_resume import "
        code += "parse_then_die as f; f(*map(Path, sys.argv[1:4]), *sys.argv[4:])"
        die_in(code, str(outlets), str(warc), str(tmp_path), second, first, "no")
        assert recover_open_files(warc)
        every = load_outlets(outlets)
        crawler = get_crawler(OutletSpider, crawl_settings(every, warc, user_agent=UA))
        state = SqliteState(tmp_path / STATE_FILE)
        assert state.unexpanded()[0][0] == Pending(second, article["outlet"], "part", first)
        spider = OutletSpider.from_crawler(crawler, outlets=every, state=state)
        crawler.spider = spider
        derived = {r.url: r for r in spider.reexpand()}
    finally:
        web.stop()
    assert derived[third].cb_kwargs["article"] == first
    assert derived[third].cb_kwargs["part"] == 3
    with sqlite3.connect(tmp_path / STATE_FILE) as db:
        pending = dict(db.execute("SELECT url, article FROM frontier WHERE kind = 'part'"))
    assert pending == {third: first}
    state.close()
