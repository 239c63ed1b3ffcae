from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from kuaizhao.lib.outlets import load_outlets, outlet_for
from kuaizhao.sampleweb.config import write_outlets
from kuaizhao.sampleweb.sites import SITES

from .conftest import Client


def test_outlet_configs_match_the_sample_web(
    tmp_path: Path, client: Client, manifest: list[dict[str, Any]]
) -> None:
    paths = write_outlets(tmp_path, client.base + "/")
    assert len(paths) == len(SITES)
    outlets = load_outlets(tmp_path)
    by_slug = {o.slug: o for o in outlets}
    for entry in manifest:
        outlet = outlet_for(entry["url"], outlets)
        assert outlet is by_slug[entry["outlet"]]
        assert outlet.is_article_url(entry["url"]), entry["url"]
        assert outlet.category_for(entry["url"]) == entry["category"]
        for page in entry["pages"][1:]:
            assert not outlet.is_article_url(page), page
    for outlet in outlets:
        assert outlet.allow_private and outlet.verified
        assert outlet.concurrency == 4 and outlet.delay == 0
        assert outlet.sitemaps and outlet.feeds
        for url in outlet.start_urls + outlet.feeds + outlet.sitemaps:
            assert client.request(url)[0] == 200, url
            assert not outlet.is_article_url(url)
        home = client.get(outlet.home).decode("utf-8", "replace")
        for href in re.findall(r'href="(/[^"]+)"', home):
            url = client.base + href
            if "/print/" in href or "/dayin/" in href or "/dyxx/" in href:
                assert outlet.is_ignored(url)


def test_cli_serves_and_stops_cleanly(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kuaizhao.sampleweb", "--port", "0", "--articles", "320"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        m = re.match(
            r"kuaizhao sample web on (http://127\.0\.0\.1:(\d+)/) \((\d+) articles\)", first
        )
        assert m and m[2] != "0" and m[3] == "320", first
        lines = [proc.stdout.readline() for _ in SITES]
        assert [ln.split("\t")[0].strip() for ln in lines] == [s.slug for s in SITES]
        assert lines[0].rstrip("\n").split("\t")[2] == f"{m[1]}huaxia/"
        c = Client(m[1])
        assert c.get("/robots.txt")
        c.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "kuaizhao.sampleweb",
            "--write-outlets",
            str(tmp_path),
            "--port",
            "8123",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(out.stdout.splitlines()) == len(SITES)
    assert load_outlets(tmp_path)[0].home.startswith("http://127.0.0.1:8123/")
