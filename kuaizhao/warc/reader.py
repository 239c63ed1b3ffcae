"""Read captures back from gzip-compressed WARC files (with warcio's ArchiveIterator)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import DecompressingBufferedReader
from warcio.exceptions import ArchiveLoadFailed

from kuaizhao.warc.decode import DEFAULT_MAX_PAYLOAD, decode_content
from kuaizhao.warc.errors import PayloadDecodeError, WarcError
from kuaizhao.warc.records import parse_date, parse_fields, parse_http_response
from kuaizhao.warc.writer import OPEN_SUFFIX

__all__ = ["WarcCapture", "WarcError", "iter_captures", "list_warc_files", "read_capture"]

DEFAULT_MAX_RECORD = 256 * 1024 * 1024
"""Largest decompressed gzip member (one WARC record) the reader accepts."""

_CAPTURE_TYPES = ("response", "revisit")


@dataclass(frozen=True)
class WarcCapture:
    """One archived HTTP response (or revisit), payload content-decoded."""

    url: str
    captured_at: datetime
    record_type: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    payload: bytes
    payload_digest: str | None
    refers_to_uri: str | None
    refers_to_date: datetime | None
    outlet: str | None
    warc_file: str
    offset: int
    length: int
    record_id: str
    decode_error: str | None = None
    """Why ``payload`` is empty although the body was not (bad coding, over the limit)."""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-cased ('' if absent)."""
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()


class _MemberTooLarge(Exception):
    pass


class _CappedReader(DecompressingBufferedReader):  # type: ignore[misc]
    """warcio's gzip reader, refusing a member that inflates past ``limit`` bytes.

    warcio inflates each block it reads without an output limit and reads WARC
    header lines until a blank line, so one damaged or hostile member could fill
    memory. Counting the inflated bytes of the current member (warcio resets the
    count per member) after every block bounds memory to ``limit`` plus one
    inflated block. ``_process_read`` and ``num_block_read`` are internals of the
    pinned warcio release; the gzip-bomb tests fail if they change.
    """

    def __init__(self, stream: Any, limit: int) -> None:
        super().__init__(stream)
        self.limit = limit
        self.last_member_torn = False

    def _process_read(self, data: bytes) -> None:
        super()._process_read(data)
        if self.num_block_read > self.limit:
            raise _MemberTooLarge

    def member_complete(self) -> bool:
        """Whether the current gzip member was read to its end (not torn off)."""
        return self.decompressor is not None and bool(self.decompressor.eof)

    def close_decompressor(self) -> None:
        # warcio calls this once the records run out, and ends quietly even when
        # the last member is too short to hold a WARC header line
        self.last_member_torn = self.decompressor is not None and not self.member_complete()
        super().close_decompressor()


class _Records(ArchiveIterator):  # type: ignore[misc]
    """An ArchiveIterator that leaves blocks unparsed and reads through a capped reader."""

    def __init__(self, fh: BinaryIO, limit: int) -> None:
        super().__init__(fh, no_record_parse=True)
        self.reader = _CappedReader(self.fh, limit)


@dataclass(frozen=True)
class _Record:
    """One WARC record: where its gzip member is, its header fields and its block."""

    offset: int
    length: int
    headers: list[tuple[str, str]]
    block: bytes

    def get(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    @property
    def type(self) -> str:
        return (self.get("WARC-Type") or "").lower()


def list_warc_files(directory: Path) -> list[Path]:
    """Closed WARC files (``*.warc.gz``, never ``*.open``) in ``directory``, sorted by name."""
    if not Path(directory).is_dir():
        return []
    return sorted(
        p
        for p in Path(directory).iterdir()
        if p.name.endswith(".warc.gz") and not p.name.endswith(OPEN_SUFFIX) and p.is_file()
    )


_TORN = "truncated gzip member (torn tail)"


def _iter_records(fh: BinaryIO, where: str, limit: int) -> Iterator[_Record]:
    """Every record from the current position on, each read whole and checked."""
    records = _Records(fh, limit)
    reader: _CappedReader = records.reader  # warcio drops its reference when done
    stream = iter(records)
    while True:
        offset = records.offset
        try:
            record = _read_next(records, stream, offset)
        except _MemberTooLarge:
            raise WarcError(
                f"record larger than {limit} bytes", path=where, offset=offset
            ) from None
        except (ArchiveLoadFailed, ValueError) as exc:
            torn = reader.decompressor is not None and not reader.member_complete()
            message = _TORN if torn else f"malformed record: {str(exc)[:120]}"
            raise WarcError(message, path=where, offset=offset) from None
        if record is None:
            break
        yield record
    if reader.last_member_torn and records.offset < os.fstat(fh.fileno()).st_size:
        raise WarcError(_TORN, path=where, offset=records.offset)


def _read_next(records: _Records, stream: Iterator[Any], offset: int) -> _Record | None:
    """The next record, or None at the end of the file; ValueError if it is damaged."""
    warc = next(stream, None)
    if warc is None:
        return None
    length_text = warc.rec_headers.get_header("Content-Length") or ""
    block = warc.raw_stream.read() if length_text.isdigit() else b""
    length = records.get_record_length()  # reads to the end of the gzip member
    if records.reader.decompressor is None:
        raise ValueError("not a gzip-compressed WARC record")
    if not records.reader.member_complete():
        raise ValueError(_TORN)
    if not length_text.isdigit():
        raise ValueError("record has no valid Content-Length")
    if len(block) != int(length_text):
        raise ValueError("record block is shorter than its Content-Length")
    headers = [(str(k), str(v)) for k, v in warc.rec_headers.headers]
    return _Record(offset, length, headers, block)


def _capture(record: _Record, warc_file: str, outlet: str | None, max_payload: int) -> WarcCapture:
    where = f"{warc_file} @ {record.offset}"
    try:
        message = parse_http_response(record.block)
        captured_at = parse_date(record.get("WARC-Date") or "")
        refers_date_text = record.get("WARC-Refers-To-Date")
        refers_to_date = parse_date(refers_date_text) if refers_date_text else None
    except ValueError as exc:
        raise WarcError(
            f"malformed {record.type} record: {exc}", path=warc_file, offset=record.offset
        ) from None
    payload, decode_error = b"", None
    if record.type == "response":
        encoding = next((v for k, v in message.headers if k.lower() == "content-encoding"), None)
        try:
            payload = decode_content(message.body, encoding, max_payload)
        except PayloadDecodeError as exc:
            decode_error = f"{where}: {exc}"
    return WarcCapture(
        url=record.get("WARC-Target-URI") or "",
        captured_at=captured_at,
        record_type=record.type,
        status=message.status,
        reason=message.reason,
        headers=message.headers,
        payload=payload,
        payload_digest=record.get("WARC-Payload-Digest"),
        refers_to_uri=record.get("WARC-Refers-To-Target-URI"),
        refers_to_date=refers_to_date,
        outlet=outlet,
        warc_file=warc_file,
        offset=record.offset,
        length=record.length,
        record_id=record.get("WARC-Record-ID") or "",
        decode_error=decode_error,
    )


def _outlet_of(metadata: _Record, response_id: str | None) -> str | None:
    if metadata.type != "metadata" or metadata.get("WARC-Concurrent-To") != response_id:
        return None
    return parse_fields(metadata.block).get("outlet") or None


def iter_captures(
    path: Path,
    *,
    max_payload: int = DEFAULT_MAX_PAYLOAD,
    max_record: int = DEFAULT_MAX_RECORD,
    errors: list[WarcError] | None = None,
) -> Iterator[WarcCapture]:
    """Every response and revisit record of a WARC file, in file order.

    A damaged file (a torn tail from a crash, corrupt data) yields every record
    before the damage and then raises :class:`WarcError` naming the file and
    offset; when ``errors`` is given the error is appended there instead.
    """
    path = Path(path)
    pending: _Record | None = None
    try:
        with path.open("rb") as fh:
            for record in _iter_records(fh, str(path), max_record):
                previous, pending = pending, None
                if previous is not None:
                    outlet = _outlet_of(record, previous.get("WARC-Record-ID"))
                    yield _capture(previous, path.name, outlet, max_payload)
                if record.type in _CAPTURE_TYPES:
                    pending = record
    except WarcError as exc:
        if errors is None:
            if pending is not None:
                yield _capture(pending, path.name, None, max_payload)
            raise
        errors.append(exc)
    if pending is not None:
        yield _capture(pending, path.name, None, max_payload)


def read_capture(
    path: Path,
    offset: int,
    *,
    max_payload: int = DEFAULT_MAX_PAYLOAD,
    max_record: int = DEFAULT_MAX_RECORD,
) -> WarcCapture:
    """The response or revisit record that starts at ``offset`` (a :class:`CaptureRef` offset)."""
    path = Path(path)
    with path.open("rb") as fh:
        fh.seek(offset)
        records = _iter_records(fh, str(path), max_record)
        first = next(records, None)
        if first is None or first.offset != offset:
            raise WarcError("no record at this offset", path=str(path), offset=offset)
        if first.type not in _CAPTURE_TYPES:
            raise WarcError(
                f"record is a {first.type!r}, not a response", path=str(path), offset=offset
            )
        outlet = None
        try:
            following = next(records, None)
        except WarcError:
            following = None
        if following is not None:
            outlet = _outlet_of(following, first.get("WARC-Record-ID"))
        return _capture(first, path.name, outlet, max_payload)
