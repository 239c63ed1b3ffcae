"""In a real browser (Debian's Chromium, when installed), the scripts of a replayed page do
not run: not in the frame, and not when the framed address is opened on its own."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kuaizhao.archive.ingest import ingest
from kuaizhao.lib.outlets import Outlet
from kuaizhao.warc.writer import WarcWriter
from tests.chromium import FLAGS, chromium_path
from tests.factories import write_page

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def chromium() -> str:
    return chromium_path()


URL = "http://news.test.example/gn/2024/0301/c777.html"
PAGE = """<!doctype html><html><head><title>原标题</title>
<script>document.title = "RAN:" + document.cookie;</script></head>
<body><p id="p">原文段落</p>
<img src="x" onerror="document.getElementById('p').textContent = 'RAN'">
<script>document.getElementById("p").textContent = "RAN:" + document.cookie;</script>
</body></html>"""


def dump_dom(url: str, tmp_path: Path) -> str:
    result = subprocess.run(
        [
            chromium_path(), *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=2000",
            "--dump-dom", url,
        ],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_a_replayed_page_runs_no_script(live_server, home: Path, outlet: Outlet, tmp_path: Path):
    with WarcWriter(home / "warc") as writer:
        write_page(writer, URL, PAGE.encode(), datetime(2024, 3, 5, 6, 0, tzinfo=UTC))
    ingest(home / "warc", [outlet])
    dom = dump_dom(f"{live_server.url}/web/20240305060000if_/{URL}", tmp_path)
    assert '<p id="p">原文段落</p>' in dom and "<title>原标题</title>" in dom


def test_the_same_page_outside_the_archive_does_run_its_scripts(tmp_path: Path):
    """The control: without the archive's sandbox this browser runs the page's scripts."""
    page = tmp_path / "page.html"
    page.write_text(PAGE.replace("<head>", "<head><meta charset='utf-8'>"), encoding="utf-8")
    dom = dump_dom(page.as_uri(), tmp_path)
    assert '<p id="p">RAN' in dom and "<title>RAN:</title>" in dom
