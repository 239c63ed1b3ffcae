"""``verify`` re-reads every record and checks digests; ``export`` copies the archive out."""

from __future__ import annotations

import gzip
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kuaizhao.archive.ingest import ingest
from kuaizhao.archive.models import Capture
from kuaizhao.lib.outlets import Outlet
from kuaizhao.warc.reader import iter_captures, list_warc_files
from tests.factories import TINY_PNG, Page, write_warc

pytestmark = pytest.mark.django_db

URL = "http://news.test.example/gn/2024/0301/c101.html"
EARLY = datetime(2024, 3, 5, 6, 0, tzinfo=UTC)
LATE = datetime(2024, 3, 9, 6, 0, tzinfo=UTC)


@pytest.fixture
def archive(home: Path, outlet: Outlet) -> Path:
    write_warc(home / "warc", [Page(URL)], images={"http://img.test.example/a.png": TINY_PNG})
    write_warc(home / "warc", [Page(URL, title="推进会举行（更新）")], captured_at=LATE)
    ingest(home / "warc", [outlet])
    return home / "warc"


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def tamper(path: Path, offset: int, length: int, old: bytes, new: bytes) -> None:
    """Change bytes inside one record and gzip it again, so only the digests can tell."""
    data = path.read_bytes()
    record = gzip.decompress(data[offset : offset + length])
    assert old in record and len(old) == len(new)
    member = gzip.compress(record.replace(old, new, 1))
    path.write_bytes(data[:offset] + member + data[offset + length :])


def test_verify_accepts_an_intact_archive(archive: Path):
    out, _ = run("verify")
    assert "every digest matches" in out
    assert "3 catalogue rows checked" in out


def test_verify_finds_a_changed_payload(archive: Path):
    capture = Capture.objects.get(url=URL, captured_at=EARLY)
    path = archive / capture.warc_file
    tamper(path, capture.offset, capture.length, "二十项".encode(), "三十项".encode())
    with pytest.raises(CommandError, match="problem"):
        run("verify", "--no-catalogue")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify", "--no-catalogue", stdout=io.StringIO(), stderr=err)
    assert "WARC-Payload-Digest does not match" in err.getvalue()
    assert "WARC-Block-Digest does not match" in err.getvalue()
    assert f"{capture.warc_file} @ {capture.offset}" in err.getvalue()


def test_verify_finds_a_torn_file(archive: Path):
    path = list_warc_files(archive)[-1]
    path.write_bytes(path.read_bytes()[:-30])
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify", stdout=io.StringIO(), stderr=err)
    assert "torn" in err.getvalue()


def test_verify_checks_the_catalogue_against_the_records(archive: Path):
    Capture.objects.filter(url=URL).update(payload_digest="sha1:AAAA")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify", stdout=io.StringIO(), stderr=err)
    assert "digest differs" in err.getvalue()


def test_export_copies_every_warc_file_byte_for_byte(archive: Path, tmp_path: Path):
    out, _ = run("export", "--warc", str(tmp_path / "out"))
    assert "exported 9 records in 2 WARC files" in out
    for path in list_warc_files(archive):
        assert (tmp_path / "out" / path.name).read_bytes() == path.read_bytes()


def test_export_since_keeps_only_later_records(archive: Path, tmp_path: Path):
    run("export", "--warc", str(tmp_path / "out"), "--since", "2024-03-08")
    (copy,) = list_warc_files(tmp_path / "out")
    captures = list(iter_captures(copy))
    assert [(c.url, c.captured_at) for c in captures] == [(URL, LATE)]
    original = next(c for c in iter_captures(archive / copy.name))
    assert captures[0].payload == original.payload
    assert captures[0].payload_digest == original.payload_digest


def test_export_jsonl_writes_every_version(archive: Path, tmp_path: Path):
    target = tmp_path / "versions.jsonl"
    run("export", "--jsonl", str(target))
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert [(r["version"], r["title"]) for r in rows] == [
        (1, Page(URL).title),
        (2, "推进会举行（更新）"),
    ]
    capture = Capture.objects.get(url=URL, captured_at=LATE)
    assert rows[1]["capture"]["payload_digest"] == capture.payload_digest
    assert rows[1]["capture"]["offset"] == capture.offset
    run("export", "--jsonl", str(target), "--since", "20240308")
    assert [json.loads(line)["version"] for line in target.read_text().splitlines()] == [2]


@pytest.mark.parametrize("since", ["yesterday", "2024-13-01", "20241399"])
def test_export_refuses_a_bad_since(archive: Path, tmp_path: Path, since: str):
    with pytest.raises(CommandError, match="--since"):
        run("export", "--jsonl", str(tmp_path / "x.jsonl"), "--since", since)


def test_the_cdxj_command_indexes_the_files(archive: Path, tmp_path: Path):
    run("cdxj", "--output", str(tmp_path / "index.cdxj"))
    lines = (tmp_path / "index.cdxj").read_text().splitlines()
    assert len(lines) == 3 and lines == sorted(lines)
    assert lines[-1].startswith("example,test,news)/gn/2024/0301/c101.html 20240309060000 {")
