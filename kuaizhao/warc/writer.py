"""Append HTTP captures to gzip-compressed WARC/1.1 files, records built by warcio."""

from __future__ import annotations

import itertools
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from warcio.warcwriter import WARCWriter

from kuaizhao import __version__
from kuaizhao.warc.records import (
    FIELDS_TYPE,
    WARC_VERSION,
    HttpHead,
    clean_field,
    format_date,
    new_record_id,
    sha1_digest,
    warc_fields,
)

SOFTWARE = f"kuaizhao/{__version__}"
OPEN_SUFFIX = ".open"

_SERIAL = itertools.count()
_HOST_UNSAFE = re.compile(r"[^A-Za-z0-9.]+")


@dataclass(frozen=True)
class CaptureRef:
    """Where a capture's response (or revisit) record lives."""

    warc_file: str
    offset: int
    length: int
    record_type: str
    payload_digest: str
    record_id: str = ""


@dataclass(frozen=True)
class PriorCapture:
    """An earlier full response with a given URL and payload digest (a revisit target)."""

    url: str
    date: datetime
    record_id: str | None = None
    payload_digest: str | None = None


NOT_MODIFIED_PROFILE = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"


DigestKey = tuple[str, str]
"""(url, payload digest)"""


def warc_file_name(prefix: str, when: datetime | None = None) -> str:
    """A file name unique across processes and machines (the `.open` suffix not included)."""
    moment = (when or datetime.now(UTC)).astimezone(UTC)
    host = _HOST_UNSAFE.sub("_", socket.gethostname()).strip("_") or "host"
    stamp = moment.strftime("%Y%m%d%H%M%S%f")
    return f"{prefix}-{stamp}-{host}-{os.getpid()}-{next(_SERIAL):05d}.warc.gz"


class _OpenFile:
    """A WARC file being written: ``<name>.open`` on disk until closed."""

    def __init__(self, directory: Path, prefix: str) -> None:
        while True:
            self.name = warc_file_name(prefix)
            self.final = directory / self.name
            self.temp = directory / (self.name + OPEN_SUFFIX)
            try:
                self.fh: BinaryIO = self.temp.open("xb")
                break
            except FileExistsError:
                continue
        self.warcinfo_id = new_record_id()

    def tell(self) -> int:
        return self.fh.tell()

    def append(self, data: bytes) -> int:
        """Write ``data`` at the end and return its offset; on failure nothing is left behind."""
        start = self.fh.tell()
        try:
            self.fh.write(data)
            self.fh.flush()
        except BaseException:
            self.fh.seek(start)
            self.fh.truncate()
            raise
        return start

    def close(self) -> None:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        os.replace(self.temp, self.final)
        _fsync_directory(self.final.parent)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _response_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Headers as stored: the body is de-chunked, so Transfer-Encoding is renamed."""
    kept = []
    for name, value in headers:
        if name.lower() == "transfer-encoding":
            kept.append(("X-Archive-Orig-Transfer-Encoding", value))
        else:
            kept.append((name, value))
    return kept


def _request_target(url: str) -> str:
    parts = urlsplit(url)
    target = parts.path or "/"
    return f"{target}?{parts.query}" if parts.query else target


def _with_host(url: str, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if any(name.lower() == "host" for name, _ in headers):
        return list(headers)
    netloc = urlsplit(url).netloc.rpartition("@")[2]
    return [("Host", netloc), *headers]


def _warc_writer(out: BinaryIO) -> Any:
    """A warcio writer that gzips every record into its own member of ``out``.

    Records are serialised into memory and appended to the file in one write,
    so a failed write can be cut off without leaving part of a record behind.
    """
    return WARCWriter(out, gzip=True, warc_version=WARC_VERSION)


def _warc_headers(record_type: str, record_id: str, *groups: Mapping[str, str]) -> dict[str, str]:
    """WARC header fields in writing order (warcio adds the digests and lengths)."""
    headers = {"WARC-Type": record_type, "WARC-Record-ID": record_id}
    for group in groups:
        headers.update(group)
    return {name: clean_field(value) for name, value in headers.items()}


class WarcWriter:
    """Writes captures to ``<prefix>-<UTC time>-<host>-<pid>-<serial>.warc.gz`` files.

    Files are named ``<name>.open`` while written and renamed when closed (on
    :meth:`close` or when a file passes ``max_size``), so readers only see
    complete files. A payload already written for the same URL (by this writer
    or listed in ``known_digests``) is recorded as a revisit.
    """

    def __init__(
        self,
        directory: Path,
        *,
        max_size: int = 1_000_000_000,
        prefix: str = "kuaizhao",
        known_digests: Mapping[DigestKey, PriorCapture] | None = None,
        info: Mapping[str, str] | None = None,
    ) -> None:
        if max_size <= 0:
            raise ValueError("max_size must be positive")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.]*", prefix):
            raise ValueError("prefix must be letters, digits, '_' and '.'")
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_size = max_size
        self.prefix = prefix
        self._info = dict(info or {})
        self._digests: dict[DigestKey, PriorCapture] = dict(known_digests or {})
        self._file: _OpenFile | None = None
        self.closed_files: list[Path] = []

    def __enter__(self) -> WarcWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def current_file(self) -> Path | None:
        """The ``.open`` file being written, if any."""
        return self._file.temp if self._file else None

    def close(self) -> None:
        """Flush, fsync and rename the open file (if any) to its final name."""
        if self._file is not None:
            self._file.close()
            self.closed_files.append(self._file.final)
            self._file = None

    def write_capture(
        self,
        *,
        url: str,
        method: str,
        request_headers: list[tuple[str, str]],
        status: int,
        reason: str,
        response_headers: list[tuple[str, str]],
        body: bytes,
        captured_at: datetime,
        protocol: str = "HTTP/1.1",
        ip: str | None = None,
        outlet: str | None = None,
        not_modified: PriorCapture | None = None,
    ) -> CaptureRef:
        """Write request, response (or revisit) and metadata records for one exchange.

        ``not_modified``: the earlier capture a 304 answer to a conditional request confirms;
        the 304 is then written as a ``server-not-modified`` revisit of it.
        """
        target = clean_field(url)
        date = format_date(captured_at)
        digest = sha1_digest(body)
        response_id = new_record_id()
        current = self._ensure_file()
        common = {"WARC-Date": date, "WARC-Target-URI": target}
        if ip:
            common["WARC-IP-Address"] = ip
        common["WARC-Warcinfo-ID"] = current.warcinfo_id
        concurrent = {"WARC-Concurrent-To": response_id}

        out = BytesIO()
        warc = _warc_writer(out)
        request_line = f"{method.upper()} {_request_target(url)} {protocol}"
        request = warc.create_warc_record(
            target,
            "request",
            http_headers=HttpHead(request_line, _with_host(url, request_headers)),
            warc_headers_dict=_warc_headers("request", new_record_id(), common, concurrent),
        )

        head = HttpHead(
            f"{protocol} {status} {reason}".rstrip(), _response_headers(response_headers)
        )
        prior = self._digests.get((url, digest))
        if status == 304 and not_modified is not None:
            record_type = "revisit"
            digest = not_modified.payload_digest or digest
            revisit = {
                "WARC-Profile": NOT_MODIFIED_PROFILE,
                "WARC-Refers-To-Target-URI": clean_field(not_modified.url),
                "WARC-Refers-To-Date": format_date(not_modified.date),
            }
            if not_modified.record_id:
                revisit["WARC-Refers-To"] = not_modified.record_id
            if not_modified.payload_digest:
                revisit["WARC-Payload-Digest"] = not_modified.payload_digest
            response = warc.create_warc_record(
                target,
                "revisit",
                http_headers=head,
                warc_headers_dict=_warc_headers("revisit", response_id, common, revisit),
            )
            prior = not_modified
        elif prior is None:
            record_type = "response"
            response = warc.create_warc_record(
                target,
                "response",
                payload=BytesIO(body),
                length=len(body),
                http_headers=head,
                warc_headers_dict=_warc_headers(
                    "response", response_id, common, {"WARC-Payload-Digest": digest}
                ),
            )
        else:
            record_type = "revisit"
            refers_to = {"WARC-Refers-To": prior.record_id} if prior.record_id else {}
            response = warc.create_revisit_record(
                target,
                digest,
                clean_field(prior.url),
                format_date(prior.date),
                http_headers=head,
                warc_headers_dict=_warc_headers("revisit", response_id, common, refers_to),
            )

        fields = [("outlet", outlet)] if outlet else []
        if "crawl" in self._info:
            fields.append(("crawl", self._info["crawl"]))
        fields.append(("software", SOFTWARE))
        block = warc_fields(fields)
        metadata = warc.create_warc_record(
            target,
            "metadata",
            payload=BytesIO(block),
            length=len(block),
            warc_content_type=FIELDS_TYPE,
            warc_headers_dict=_warc_headers("metadata", new_record_id(), common, concurrent),
        )

        warc.write_record(request)
        response_start = out.tell()
        warc.write_record(response)
        response_length = out.tell() - response_start
        warc.write_record(metadata)

        start = current.append(out.getvalue())
        if prior is None:
            self._digests[(url, digest)] = PriorCapture(url, captured_at, response_id)
        offset = start + response_start
        ref = CaptureRef(current.name, offset, response_length, record_type, digest, response_id)
        if current.tell() >= self.max_size:
            self.close()
        return ref

    def _ensure_file(self) -> _OpenFile:
        if self._file is None:
            self._file = _OpenFile(self.directory, self.prefix)
            self._write_warcinfo(self._file)
        return self._file

    def _write_warcinfo(self, current: _OpenFile) -> None:
        fields = [
            ("software", SOFTWARE),
            ("format", "WARC File Format 1.1"),
            (
                "conformsTo",
                "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            ),
            ("hostname", socket.gethostname()),
            *sorted(self._info.items()),
        ]
        block = warc_fields(fields)
        out = BytesIO()
        warc = _warc_writer(out)
        headers = {"WARC-Date": format_date(datetime.now(UTC)), "WARC-Filename": current.name}
        warcinfo = warc.create_warc_record(
            "",
            "warcinfo",
            payload=BytesIO(block),
            length=len(block),
            warc_content_type=FIELDS_TYPE,
            warc_headers_dict=_warc_headers("warcinfo", current.warcinfo_id, headers),
        )
        warc.write_record(warcinfo)
        current.append(out.getvalue())
