"""``kuaizhao crawl``: the crawler child plus ingest in the parent, end to end on the sample web."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kuaizhao.sampleweb.config import write_outlets
from kuaizhao.sampleweb.server import SampleWeb
from tests.crawler.test_crawl import ROOT
from tests.crawler.test_forever import wait_for
from tests.crawler.test_resume import control

pytestmark = pytest.mark.e2e


def catalogued(home: Path, url: str) -> bool:
    try:
        with sqlite3.connect(home / "kuaizhao.sqlite3") as db:
            row = db.execute("SELECT 1 FROM archive_article WHERE url = ?", (url,)).fetchone()
    except sqlite3.Error:
        return False
    return row is not None


def test_crawl_forever_ingests_a_new_article_while_it_runs(tmp_path: Path) -> None:
    web = SampleWeb(articles=12, seed=8).start()
    home = tmp_path / "home"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "KUAIZHAO_HOME": str(home),
        "KUAIZHAO_INGEST_INTERVAL": "1",
        "KUAIZHAO_WARC_MAX_AGE": "1",
        "KUAIZHAO_LIST_INTERVAL_MAX": "2",
        "KUAIZHAO_USER_AGENT": "kuaizhao-test/1.0",
    }
    for name in ("KUAIZHAO_DATABASE_URL", "KUAIZHAO_REDIS_URL"):
        env.pop(name, None)
    command = [sys.executable, "-m", "kuaizhao", "crawl", "--forever", "--interval", "1"]
    command += ["--outlets", str(tmp_path / "outlets")]
    process = None
    try:
        write_outlets(tmp_path / "outlets", web.url)
        with (tmp_path / "stderr.txt").open("w") as err:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=err, stderr=err)
        first = control(web, "publish", {"outlet": "xibei"})
        wait_for(lambda: catalogued(home, first["url"]), timeout=120)
        later = control(web, "publish", {"outlet": "nanfeng"})
        wait_for(lambda: catalogued(home, later["url"]), timeout=60)
        assert process.poll() is None
        assert len(list((home / "crawl-stats").glob("*.json"))) == 1  # one crawler process
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)
        web.stop()
    assert not list((home / "warc").glob("*.open"))
