"""WarcWriter / reader: round trips, revisits, rollover, damage and standard compliance."""

from __future__ import annotations

import gzip
import os
import re
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from warcio.archiveiterator import ArchiveIterator

from kuaizhao.warc import (
    PriorCapture,
    WarcCapture,
    WarcError,
    WarcWriter,
    iter_captures,
    list_warc_files,
    read_capture,
)
from kuaizhao.warc.decode import decode_content
from kuaizhao.warc.errors import PayloadDecodeError
from kuaizhao.warc.records import sha1_digest

WHEN = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
HTML = "<html><head><meta charset=utf-8></head><body>新闻正文</body></html>".encode()


def capture(writer: WarcWriter, url: str = "http://example.cn/a.html", **overrides):
    kwargs: dict[str, Any] = {
        "url": url,
        "method": "GET",
        "request_headers": [("User-Agent", "kuaizhao-test"), ("Accept", "*/*")],
        "status": 200,
        "reason": "OK",
        "response_headers": [("Content-Type", "text/html; charset=utf-8"), ("X-A", "1")],
        "body": HTML,
        "captured_at": WHEN,
        "ip": "203.0.113.7",
        "outlet": "huaxia",
    }
    kwargs.update(overrides)
    return writer.write_capture(**kwargs)


def read_all(directory: Path) -> list[WarcCapture]:
    return [c for path in list_warc_files(directory) for c in iter_captures(path)]


def test_round_trip_every_field(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as writer:
        ref = capture(writer, url="http://example.cn/n1/2024/0506/c1-2.html?x=1")
    (only,) = read_all(tmp_path)
    assert only.url == "http://example.cn/n1/2024/0506/c1-2.html?x=1"
    assert only.captured_at == WHEN and only.captured_at.tzinfo is not None
    assert only.record_type == "response" == ref.record_type
    assert (only.status, only.reason) == (200, "OK")
    assert only.headers == [("Content-Type", "text/html; charset=utf-8"), ("X-A", "1")]
    assert only.payload == HTML
    assert only.payload_digest == ref.payload_digest == sha1_digest(HTML)
    assert only.refers_to_uri is None and only.refers_to_date is None
    assert only.outlet == "huaxia"
    assert (only.warc_file, only.offset, only.length) == (ref.warc_file, ref.offset, ref.length)
    assert only.record_id.startswith("<urn:uuid:")
    assert only.decode_error is None
    assert only.content_type == "text/html"
    assert read_capture(tmp_path / ref.warc_file, ref.offset) == only


def test_capture_without_outlet_or_ip(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as writer:
        ref = capture(writer, outlet=None, ip=None, status=404, reason="Not Found")
    found = read_capture(tmp_path / ref.warc_file, ref.offset)
    assert (found.outlet, found.status, found.reason) == (None, 404, "Not Found")


def test_revisit_on_identical_payload(tmp_path: Path) -> None:
    later = WHEN + timedelta(hours=1)
    with WarcWriter(tmp_path) as writer:
        first = capture(writer)
        second = capture(writer, captured_at=later)
        other_url = capture(writer, url="http://example.cn/b.html")
        changed = capture(writer, body=b"changed", captured_at=later)
    assert [first.record_type, second.record_type] == ["response", "revisit"]
    assert other_url.record_type == "response"
    assert changed.record_type == "response"
    revisit = read_capture(tmp_path / second.warc_file, second.offset)
    assert revisit.record_type == "revisit"
    assert revisit.payload == b""
    assert revisit.status == 200
    assert revisit.refers_to_uri == "http://example.cn/a.html"
    assert revisit.refers_to_date == WHEN
    assert revisit.payload_digest == first.payload_digest
    assert revisit.outlet == "huaxia"


def test_revisit_from_a_digest_map(tmp_path: Path) -> None:
    known = {
        ("http://example.cn/a.html", sha1_digest(HTML)): PriorCapture(
            "http://example.cn/a.html", WHEN
        )
    }
    with WarcWriter(tmp_path, known_digests=known) as writer:
        ref = capture(writer, captured_at=WHEN + timedelta(days=1))
    assert ref.record_type == "revisit"
    assert read_capture(tmp_path / ref.warc_file, ref.offset).refers_to_date == WHEN


def test_open_file_renamed_on_close(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path)
    capture(writer)
    assert writer.current_file is not None
    assert writer.current_file.name.endswith(".warc.gz.open")
    assert list_warc_files(tmp_path) == []
    writer.close()
    (closed,) = list_warc_files(tmp_path)
    assert not list(tmp_path.glob("*.open"))
    assert closed.name.startswith("kuaizhao-") and closed.name.endswith(".warc.gz")
    writer.close()  # idempotent


def test_rollover_when_file_passes_max_size(tmp_path: Path) -> None:
    with WarcWriter(tmp_path, max_size=2_000) as writer:
        refs = [
            capture(writer, url=f"http://example.cn/{i}.html", body=os.urandom(3000))
            for i in range(5)
        ]
    files = list_warc_files(tmp_path)
    assert len(files) == 5
    assert len({r.warc_file for r in refs}) == 5
    for path in files:
        with path.open("rb") as fh:
            assert next(iter(ArchiveIterator(fh))).rec_type == "warcinfo"
    assert sorted(c.url for c in read_all(tmp_path)) == sorted(
        f"http://example.cn/{i}.html" for i in range(5)
    )


def test_names_unique_across_writers_in_one_process(tmp_path: Path) -> None:
    a, b = WarcWriter(tmp_path), WarcWriter(tmp_path)
    capture(a)
    capture(b)
    a.close()
    b.close()
    names = [p.name for p in list_warc_files(tmp_path)]
    assert len(names) == 2 and len(set(names)) == 2
    pattern = r"kuaizhao-\d{20}-[A-Za-z0-9._]+-\d+-\d{5}\.warc\.gz"
    assert all(re.fullmatch(pattern, n) for n in names)


def test_gzip_body_stored_raw_and_read_decoded(tmp_path: Path) -> None:
    raw = gzip.compress(HTML)
    with WarcWriter(tmp_path) as writer:
        ref = capture(
            writer,
            body=raw,
            response_headers=[
                ("Content-Type", "text/html"),
                ("Content-Encoding", "gzip"),
                ("Transfer-Encoding", "chunked"),
            ],
        )
    path = tmp_path / ref.warc_file
    with path.open("rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type == "response":
                assert record.raw_stream.read() == raw  # stored as sent
                headers = record.http_headers
                assert headers.get_header("Transfer-Encoding") is None
                assert headers.get_header("X-Archive-Orig-Transfer-Encoding") == "chunked"
    found = read_capture(path, ref.offset)
    assert found.payload == HTML
    assert found.payload_digest == sha1_digest(raw)


def test_warcio_reads_files_and_digests_verify(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as writer:
        capture(writer)
        capture(writer, captured_at=WHEN + timedelta(minutes=1))  # revisit
        capture(writer, url="http://example.cn/img.png", body=b"\x89PNG\r\n\x1a\n" + bytes(200))
    (path,) = list_warc_files(tmp_path)
    with path.open("rb") as fh:
        it = ArchiveIterator(fh, check_digests="raise")
        kinds = []
        for record in it:
            kinds.append(record.rec_type)
            record.content_stream().read()
            assert record.rec_headers.get_header("WARC-Record-ID")
            if record.rec_type in ("request", "response", "revisit"):
                assert record.rec_headers.get_header("WARC-IP-Address") == "203.0.113.7"
            if record.rec_type == "revisit":
                assert record.rec_headers.get_header("WARC-Profile").endswith(
                    "identical-payload-digest"
                )
    triple = ["request", "response", "metadata"]
    assert kinds == ["warcinfo", *triple, "request", "revisit", "metadata", *triple]
    with path.open("rb") as fh:
        first = next(iter(ArchiveIterator(fh)))
        assert first.rec_headers.protocol == "WARC/1.1"


def test_non_ascii_header_values_stored_byte_for_byte(tmp_path: Path) -> None:
    utf8 = 'attachment; filename="新闻.pdf"'.encode()
    gbk = 'attachment; filename="新闻.pdf"'.encode("gbk")
    headers = [  # as Scrapy hands them over: raw bytes decoded as latin-1
        ("Content-Disposition", utf8.decode("latin-1")),
        ("X-Gbk-Name", gbk.decode("latin-1")),
    ]
    with WarcWriter(tmp_path) as writer:
        capture(writer, response_headers=headers, protocol="HTTP/2")
        revisit = capture(writer, response_headers=headers, captured_at=WHEN + timedelta(hours=1))
    head = b"Content-Disposition: %s\r\nX-Gbk-Name: %s\r\n\r\n" % (utf8, gbk)
    (path,) = list_warc_files(tmp_path)
    with path.open("rb") as fh:
        blocks = {
            record.rec_type: record.raw_stream.read()
            for record in ArchiveIterator(fh, no_record_parse=True)
        }
    assert blocks["response"] == b"HTTP/2 200 OK\r\n" + head + HTML
    assert blocks["revisit"] == b"HTTP/1.1 200 OK\r\n" + head
    with path.open("rb") as fh:
        for record in ArchiveIterator(fh, check_digests="raise"):
            record.content_stream().read()
    (first, second) = read_all(tmp_path)
    assert first.headers == headers == second.headers
    assert second == read_capture(path, revisit.offset)


@pytest.mark.parametrize("keep", ["3 bytes", "warc header", "block", "all but 4 bytes"])
def test_torn_tail_anywhere_in_the_last_member(tmp_path: Path, keep: str) -> None:
    with WarcWriter(tmp_path) as writer:
        capture(writer, url="http://example.cn/1.html")
        last = capture(writer, url="http://example.cn/2.html", body=os.urandom(5000))
    (path,) = list_warc_files(tmp_path)
    data = path.read_bytes()
    member = data[last.offset : last.offset + last.length]
    inflated = zlib.decompressobj(31).decompress(member[:-4])
    assert inflated.endswith(b"\r\n\r\n")  # only the gzip trailer is missing
    cut = {"3 bytes": 3, "warc header": 40, "block": 2600, "all but 4 bytes": last.length - 4}
    path.write_bytes(data[: last.offset] + member[: cut[keep]])
    errors: list[WarcError] = []
    assert [c.url for c in iter_captures(path, errors=errors)] == ["http://example.cn/1.html"]
    assert [(e.offset, "torn tail" in str(e)) for e in errors] == [(last.offset, True)]


def test_empty_file_and_empty_trailing_member_are_not_damage(tmp_path: Path) -> None:
    empty = tmp_path / "empty.warc.gz"
    empty.write_bytes(b"")
    assert list(iter_captures(empty)) == []
    with WarcWriter(tmp_path / "w") as writer:
        capture(writer)
    (path,) = list_warc_files(tmp_path / "w")
    path.write_bytes(path.read_bytes() + gzip.compress(b""))
    assert len(list(iter_captures(path))) == 1


def test_uncompressed_or_inflating_warc_member_is_refused(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as writer:
        capture(writer)
    (path,) = list_warc_files(tmp_path)
    data = path.read_bytes()
    plain = tmp_path / "plain.warc.gz"
    plain.write_bytes(gzip.decompress(data))
    with pytest.raises(WarcError, match="not a gzip-compressed"):
        list(iter_captures(plain))
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join(compressor.compress(bytes(1024 * 1024)) for _ in range(64))
    path.write_bytes(data + bomb + compressor.flush())  # 64 MB, no line break
    with pytest.raises(WarcError, match="larger than") as excinfo:
        list(iter_captures(path, max_record=1024 * 1024))
    assert excinfo.value.offset == len(data)


def test_torn_tail_yields_complete_records_then_errors(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as writer:
        capture(writer, url="http://example.cn/1.html")
        capture(writer, url="http://example.cn/2.html")
        last = capture(writer, url="http://example.cn/3.html", body=bytes(range(256)) * 50)
    (path,) = list_warc_files(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: last.offset + last.length // 2])
    seen: list[str] = []
    with pytest.raises(WarcError) as excinfo:
        seen.extend(c.url for c in iter_captures(path))
    assert seen == ["http://example.cn/1.html", "http://example.cn/2.html"]
    assert path.name in str(excinfo.value) and str(last.offset) in str(excinfo.value)
    assert excinfo.value.offset == last.offset
    errors: list[WarcError] = []
    assert len(list(iter_captures(path, errors=errors))) == 2
    assert len(errors) == 1


def test_garbage_file_raises_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.warc.gz"
    path.write_bytes(b"this is not gzip at all" * 10)
    with pytest.raises(WarcError, match=r"bad\.warc\.gz"):
        list(iter_captures(path))


def test_gzip_bomb_is_refused(tmp_path: Path) -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1024 * 1024)
    bomb = b"".join(compressor.compress(chunk) for _ in range(200)) + compressor.flush()
    assert len(bomb) < 300_000  # 200 MB inflated
    with WarcWriter(tmp_path) as writer:
        ref = capture(writer, body=bomb, response_headers=[("Content-Encoding", "gzip")])
    found = read_capture(tmp_path / ref.warc_file, ref.offset, max_payload=10 * 1024 * 1024)
    assert found.payload == b""
    assert found.decode_error is not None and "limit" in found.decode_error
    with pytest.raises(PayloadDecodeError):
        decode_content(bomb, "gzip", limit=50 * 1024 * 1024)


def test_record_over_reader_limit_is_refused(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as writer:
        capture(writer, body=bytes(100_000))
    (path,) = list_warc_files(tmp_path)
    with pytest.raises(WarcError, match="larger than"):
        list(iter_captures(path, max_record=50_000))


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate", "br", "zstd", "gzip, br"])
def test_content_codings_decode(coding: str) -> None:
    import brotli  # type: ignore[import-untyped]
    from backports import zstd

    def encode(name: str, data: bytes) -> bytes:
        if name == "gzip":
            return gzip.compress(data)
        if name == "deflate":
            return zlib.compress(data)
        if name == "raw-deflate":
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            return c.compress(data) + c.flush()
        if name == "br":
            return bytes(brotli.compress(data))
        return zstd.compress(data)

    body = HTML
    for name in [c.strip() for c in coding.split(",")]:
        body = encode(name, body)
    header = coding.replace("raw-deflate", "deflate")
    assert decode_content(body, header) == HTML


def test_unknown_or_corrupt_coding_is_reported(tmp_path: Path) -> None:
    with pytest.raises(PayloadDecodeError, match="unsupported"):
        decode_content(b"abc", "compress")
    with pytest.raises(PayloadDecodeError, match="truncated"):
        decode_content(gzip.compress(HTML * 100)[:-30], "gzip")


def test_naive_datetime_is_rejected(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as writer, pytest.raises(ValueError):
        capture(writer, captured_at=datetime(2024, 1, 1))


def test_list_warc_files_skips_open_and_foreign_files(tmp_path: Path) -> None:
    (tmp_path / "a.warc.gz.open").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "b.warc.gz").write_bytes(b"")
    assert [p.name for p in list_warc_files(tmp_path)] == ["b.warc.gz"]
    assert list_warc_files(tmp_path / "missing") == []


header_text = (
    st.text(
        alphabet=st.characters(min_codepoint=32, max_codepoint=255, blacklist_characters=":"),
        min_size=1,
        max_size=20,
    )
    .map(str.strip)
    .filter(bool)
)


@settings(max_examples=30, deadline=None)
@given(
    body=st.binary(max_size=2000),
    status=st.integers(100, 599),
    headers=st.lists(
        st.tuples(header_text.filter(lambda s: " " not in s), header_text), max_size=5
    ),
)
def test_round_trip_property(
    tmp_path_factory: pytest.TempPathFactory, body: bytes, status: int, headers
) -> None:
    directory = tmp_path_factory.mktemp("prop")
    headers = [
        (k, v) for k, v in headers if k.lower() not in ("content-encoding", "transfer-encoding")
    ]
    with WarcWriter(directory) as writer:
        ref = capture(writer, body=body, status=status, response_headers=headers)
    found = read_capture(directory / ref.warc_file, ref.offset)
    assert (found.payload, found.status, found.headers) == (body, status, headers)


class _FailingFile:
    """Writes a little, then fails like a full disk."""

    def __init__(self, fh: Any) -> None:
        self.fh = fh

    def write(self, data: bytes) -> int:
        self.fh.write(data[:100])
        raise OSError("No space left on device")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fh, name)


def test_failed_write_leaves_no_partial_record(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path)
    capture(writer, url="http://example.cn/1.html")
    assert writer._file is not None
    real = writer._file.fh
    writer._file.fh = _FailingFile(real)  # type: ignore[assignment]
    with pytest.raises(OSError):
        capture(writer, url="http://example.cn/2.html")
    writer._file.fh = real
    capture(writer, url="http://example.cn/3.html")
    again = capture(writer, url="http://example.cn/2.html")
    writer.close()
    assert again.record_type == "response"  # the failed capture is not a revisit target
    urls = [c.url for c in read_all(tmp_path)]
    assert urls == [f"http://example.cn/{n}.html" for n in (1, 3, 2)]


def test_metadata_records_name_the_outlet_crawl_and_software(tmp_path: Path) -> None:
    with WarcWriter(tmp_path, info={"crawl": "20240506T070809Z-host-42"}) as writer:
        capture(writer)
    (path,) = list_warc_files(tmp_path)
    with path.open("rb") as fh:
        blocks = [
            r.content_stream().read().decode()
            for r in ArchiveIterator(fh)
            if r.rec_type == "metadata"
        ]
    (block,) = blocks
    assert "outlet: huaxia" in block
    assert "crawl: 20240506T070809Z-host-42" in block
    assert "software: kuaizhao/" in block
