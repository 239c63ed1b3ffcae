"""Tools no one here wrote read what we write: warcio's ``check`` and ``index``, and pywb
(``cdx-indexer`` and the ``wayback`` replay server)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest

from kuaizhao.archive.ingest import ingest
from kuaizhao.warc.cdxj import write_cdxj
from kuaizhao.warc.export import export_warcs
from kuaizhao.warc.reader import iter_captures, list_warc_files
from kuaizhao.warc.records import sha1_digest
from kuaizhao.warc.writer import PriorCapture, WarcWriter
from tests.api.linkformat import by_rel, parse_links
from tests.factories import TINY_PNG, Page, write_page
from tests.warc.pywb import pywb_bin

URL = "http://www.news.test.example/gn/2024/0301/c101.html?b=2&a=1"
GBK = "http://gbk.test.example/2024/0301/c5.shtml"
T1 = datetime(2024, 3, 5, 6, 0, tzinfo=UTC)
T2 = datetime(2024, 3, 6, 6, 0, tzinfo=UTC)
WARCIO = Path(sys.executable).parent / "warcio"


@pytest.fixture(scope="module")
def warcs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """WARC files with every kind of capture the crawler writes."""
    directory = tmp_path_factory.mktemp("interop")
    body = Page(URL).html().encode()
    with WarcWriter(directory, max_size=6000) as writer:  # small: several files
        write_page(writer, URL, body, T1)
        write_page(writer, "http://img.test.example/a.png", TINY_PNG, T1, mime="image/png")
        write_page(writer, URL, body, T2)  # a revisit
        gbk = Page(GBK, title="繁體與简体：编码测试").html().replace("utf-8", "gbk")
        write_page(
            writer, GBK, gbk.encode("gbk"), T1, mime="text/html; charset=gbk",
            headers=[("X-Note", "caf\xe9 \u6d4b\u8bd5")],
        )  # fmt: skip
        write_page(writer, "http://news.test.example/gone", b"not here", T2, status=404)
        write_page(writer, "http://news.test.example/moved", b"", T2, status=301,
                   headers=[("Location", "/gn/2024/0301/c101.html")])  # fmt: skip
    known = {(URL, sha1_digest(body)): PriorCapture(URL, T1)}
    with WarcWriter(directory, known_digests=known) as writer:
        write_page(writer, URL, body, datetime(2024, 3, 7, tzinfo=UTC))
    export_warcs(list_warc_files(directory), directory / "since", since=T2)
    return directory


def every_warc(directory: Path) -> list[Path]:
    return list_warc_files(directory) + list_warc_files(directory / "since")


def test_there_is_something_to_check(warcs: Path):
    assert len(list_warc_files(warcs)) >= 3 and list_warc_files(warcs / "since")


def test_warcio_check_accepts_every_file(warcs: Path):
    for path in every_warc(warcs):
        result = subprocess.run(
            [str(WARCIO), "check", "-v", str(path)], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "digest pass" in result.stdout


def test_warcio_index_lists_every_record(warcs: Path):
    for path in every_warc(warcs):
        result = subprocess.run(
            [str(WARCIO), "index", "-f", "warc-type,warc-target-uri,offset", str(path)],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        captures = [r for r in rows if r["warc-type"] in ("response", "revisit")]
        ours = list(iter_captures(path))
        assert [(r["warc-target-uri"], int(r["offset"])) for r in captures] == [
            (c.url, c.offset) for c in ours
        ]


@pytest.fixture(scope="module")
def pywb() -> Path:
    return pywb_bin()


def test_pywb_cdx_indexer_gives_our_cdxj(warcs: Path, pywb: Path, tmp_path: Path):
    paths = list_warc_files(warcs)
    result = subprocess.run(
        [str(pywb / "cdx-indexer"), "-j", "-s", *map(str, paths)],
        capture_output=True, text=True, timeout=120, check=True, cwd=warcs,
    )  # fmt: skip
    theirs = sorted(line for line in result.stdout.splitlines() if line.strip())
    with (tmp_path / "ours.cdxj").open("w") as out:
        write_cdxj(paths, out)
    ours = sorted((tmp_path / "ours.cdxj").read_text().splitlines())
    assert len(ours) == 7
    assert [json.loads(x.split(" ", 2)[2]) for x in ours] == [
        json.loads(x.split(" ", 2)[2]) for x in theirs
    ]
    assert [x.split(" ", 2)[:2] for x in ours] == [x.split(" ", 2)[:2] for x in theirs]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def wayback(warcs: Path, pywb: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("pywb")
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    run = {"cwd": root, "env": env, "check": True, "capture_output": True, "timeout": 120}
    subprocess.run([str(pywb / "wb-manager"), "init", "kz"], **run)  # type: ignore[call-overload]
    subprocess.run(
        [str(pywb / "wb-manager"), "add", "kz", *map(str, list_warc_files(warcs))], **run
    )  # type: ignore[call-overload]
    port = _free_port()
    server = subprocess.Popen(
        [str(pywb / "wayback"), "-p", str(port), "-b", "127.0.0.1", "-d", str(root)],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        yield f"{base}/kz"
    finally:
        server.terminate()
        server.wait(timeout=20)


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_pywb_replays_our_captures_byte_for_byte(warcs: Path, wayback: str):
    captures = [c for p in list_warc_files(warcs) for c in iter_captures(p)]
    originals = {(c.url, c.payload_digest): c for c in captures if c.record_type == "response"}
    for capture in captures:
        if capture.status != 200:
            continue
        stamp = capture.captured_at.strftime("%Y%m%d%H%M%S")
        status, headers, body = fetch(f"{wayback}/{stamp}id_/{capture.url}")
        assert status == 200, capture.url
        assert headers["Memento-Datetime"] == capture.captured_at.strftime(
            "%a, %d %b %Y %H:%M:%S GMT"
        )
        expected = originals[capture.url, capture.payload_digest].payload  # revisits too
        assert body == expected, capture.url
        links = parse_links(headers["Link"])  # our Link parser reads pywb's headers too
        assert [link.target for link in by_rel(links, "original")] == [capture.url]


@pytest.mark.django_db
def test_pywb_cdx_server_agrees_with_ours(warcs: Path, wayback: str, client, home: Path, outlet):
    """The same query to pywb's CDX server and to ours gives the same captures."""
    for path in list_warc_files(warcs):
        shutil.copy(path, home / "warc" / path.name)
    ingest(home / "warc", [outlet])
    fields = ("urlkey", "timestamp", "url", "mime", "status", "digest", "length", "offset")
    queries = [
        {"url": "news.test.example/", "matchType": "host"},
        {"url": URL},
        {"url": "*.test.example"},
        {"url": "http://news.test.example/", "matchType": "prefix", "from": "20240306"},
    ]
    for query in queries:
        _, _, body = fetch(f"{wayback}/cdx?{urlencode({**query, 'output': 'json'})}")
        theirs = [json.loads(line) for line in body.decode().splitlines()]
        response = client.get("/cdx", {**query, "output": "json"})
        ours = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
        assert theirs, query
        assert [{k: r.get(k) for k in fields} for r in ours] == [
            {k: r.get(k) for k in fields} for r in theirs
        ], query
