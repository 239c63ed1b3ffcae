"""``--forever``: one long-running crawler re-visits sources on schedule, catches new articles."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from kuaizhao.crawler.progress import stats_path
from kuaizhao.sampleweb.config import write_outlets
from kuaizhao.sampleweb.server import SampleWeb
from kuaizhao.warc import iter_captures, list_warc_files
from tests.crawler.test_crawl import ROOT, UA
from tests.crawler.test_resume import control

pytestmark = pytest.mark.e2e

LIST_MAX = 2.0
"""The outlets' longest re-visit interval in this test (seconds)."""
SLACK = 3.0
"""One scheduling tick, the fetch of the list and of the article."""


def wait_for(predicate: Any, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_an_article_published_during_a_forever_crawl_is_captured_within_the_interval(
    tmp_path: Path,
) -> None:
    web = SampleWeb(articles=12, seed=2).start()
    warc = tmp_path / "warc"
    command = [sys.executable, "-m", "kuaizhao.crawler", "--forever", "--outlets"]
    command += [str(tmp_path / "outlets"), "--warc-dir", str(warc), "--user-agent", UA]
    command += ["--state-dir", str(tmp_path), "--list-interval-min", "1"]
    command += ["--list-interval-max", str(LIST_MAX), "--warc-max-age", "1"]
    command += ["--log-file", str(tmp_path / "crawl.log")]
    process = None
    try:
        write_outlets(tmp_path / "outlets", web.url)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        stats = stats_path(tmp_path, process.pid)

        def settled() -> bool:
            try:
                data = json.loads(stats.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return False
            return bool(data["articles"] >= 12)

        wait_for(settled)
        article = control(web, "publish", {"outlet": "huaxia", "title": "新发布的测试文章"})
        published = time.time()

        def captured() -> float | None:
            for path in list_warc_files(warc):
                for capture in iter_captures(path):
                    if capture.url == article["url"] and capture.status == 200:
                        return capture.captured_at.timestamp()
            return None

        at = wait_for(captured, timeout=60)
        assert at - published <= LIST_MAX + SLACK
        assert process.poll() is None  # still running: one process does every round
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)
        web.stop()
    assert not list(warc.glob("*.open"))  # closed cleanly on SIGINT
    final = json.loads(stats.read_text(encoding="utf-8"))
    assert final["finished"] == "shutdown"
