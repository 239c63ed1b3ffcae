"""A live archive made the way a user makes one, for the tests that drive it end to end.

The sample web runs in a subprocess, ``kuaizhao crawl --once`` archives it and ``kuaizhao
serve`` answers on a loopback port, all in their own ``$KUAIZHAO_HOME``; the sample web's
manifest is the ground truth a test checks pages against.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(url: str, data: dict[str, Any] | None = None) -> str:
    """The body at ``url``; with ``data``, POSTed as JSON."""
    body = json.dumps(data).encode() if data is not None else None
    with urllib.request.urlopen(url, data=body, timeout=30) as response:
        return str(response.read().decode("utf-8"))


def wait_for(url: str, process: subprocess.Popen[Any]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def crawled_site(
    home: Path,
    *,
    articles: int | None = None,
    publish: Sequence[dict[str, Any]] = (),
    serve: Sequence[str] = (),
) -> Iterator[dict[str, Any]]:
    """The sample web (``articles`` of them, plus each of ``publish`` sent to its control
    API), crawled once into ``home`` and served with ``kuaizhao serve`` (``serve`` adds its
    options). Yields the site's and the sample web's URLs, the manifest, the published
    articles as the sample web answered, and ``home``."""
    env = {**os.environ, "KUAIZHAO_HOME": str(home)}
    sample_args = ["--articles", str(articles)] if articles is not None else []
    sample = subprocess.Popen(
        [sys.executable, "-m", "kuaizhao.sampleweb", "--port", "0", *sample_args],
        stdout=subprocess.PIPE,
        text=True,
    )
    servers: list[subprocess.Popen[Any]] = [sample]
    try:
        assert sample.stdout is not None
        found = re.search(r"(http://\S+/)", sample.stdout.readline())
        assert found, "the sample web did not print its URL"
        sample_url = found.group(1)
        published = [json.loads(fetch(sample_url + "_control/publish", p)) for p in publish]
        port = sample_url.rsplit(":", 1)[1].strip("/")
        outlets = home / "outlets"
        subprocess.run(
            [sys.executable, "-m", "kuaizhao.sampleweb", "--port", port,
             "--write-outlets", str(outlets)],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        crawl = subprocess.run(
            [sys.executable, "-m", "kuaizhao", "crawl", "--once", "--outlets", str(outlets)],
            env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert crawl.returncode == 0, crawl.stderr[-3000:]
        site_port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "kuaizhao", "serve", *serve, "--port", str(site_port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        servers.append(server)
        site_url = f"http://127.0.0.1:{site_port}"
        wait_for(site_url + "/", server)
        manifest = json.loads(fetch(sample_url + "_control/manifest"))["articles"]
        yield {
            "url": site_url,
            "sample": sample_url,
            "manifest": manifest,
            "published": published,
            "home": home,
        }
    finally:
        for process in reversed(servers):
            stop(process)
        assert sample.stdout is not None
        sample.stdout.close()
