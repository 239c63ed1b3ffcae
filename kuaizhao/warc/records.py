"""WARC/1.1 record pieces on top of warcio (ISO 28500:2017), one gzip member per record.

warcio builds, serialises and parses the records. This module holds the few
things it leaves to its callers: HTTP heads kept byte for byte, dates, digests
and ``application/warc-fields`` blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO

from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser
from warcio.timeutils import datetime_to_iso_date, iso_date_to_datetime
from warcio.utils import Digester

WARC_VERSION = "WARC/1.1"
FIELDS_TYPE = "application/warc-fields"

_CRLF = b"\r\n"
_CONTROL = re.compile(r"[\r\n\x00]")


def sha1_digest(data: bytes) -> str:
    """The WARC digest label of ``data`` (``sha1:`` and base32), as warcio writes it."""
    digester = Digester("sha1")
    digester.update(data)
    return str(digester)


def new_record_id() -> str:
    return str(StatusAndHeadersParser.make_warc_id())


def format_date(moment: datetime) -> str:
    """A WARC-Date value (UTC, microseconds when there are any)."""
    if moment.tzinfo is None:
        raise ValueError("WARC dates must be timezone-aware")
    naive_utc = moment.astimezone(UTC).replace(tzinfo=None)
    return str(datetime_to_iso_date(naive_utc, use_micros=True))


def parse_date(value: str) -> datetime:
    """A WARC-Date value as an aware UTC datetime (seconds or fractional seconds)."""
    try:
        moment = iso_date_to_datetime(value.strip(), tz_aware=True)
    except (TypeError, ValueError):
        raise ValueError(f"not a WARC date: {value!r}") from None
    assert isinstance(moment, datetime)
    return moment


def clean_field(value: str) -> str:
    """A header value safe to put on one line (CR, LF and NUL become spaces)."""
    return _CONTROL.sub(" ", value)


def _header_bytes(text: str) -> bytes:
    """Header text as bytes: latin-1 keeps bytes that were decoded as latin-1 exact."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


class HttpHead(StatusAndHeaders):  # type: ignore[misc]
    """An HTTP message head that warcio writes byte for byte.

    Given a record's ``http_headers``, warcio's writer calls
    :meth:`compute_headers_buffer` and writes ``headers_buff`` as the start of
    the record block, counting it in Content-Length and WARC-Block-Digest. The
    stock method re-serialises the parsed headers as ASCII and percent-encodes
    any non-ASCII value (RFC 8187 style); the archive stores responses as
    received, so this head builds ``headers_buff`` once from the raw header
    bytes and keeps it. Passing the head as ``http_headers`` (rather than as
    the start of the payload, with no ``http_headers``) also works for revisit
    records, whose block warcio writes only from ``http_headers``, and stops
    warcio from parsing the head back out of the payload.
    """

    def __init__(self, start_line: str, headers: list[tuple[str, str]]) -> None:
        start_line = clean_field(start_line)
        headers = [(clean_field(name), clean_field(value)) for name, value in headers]
        super().__init__(start_line, headers)
        lines = [_header_bytes(start_line)]
        lines += [_header_bytes(f"{name}: {value}") for name, value in headers]
        self.headers_buff: bytes = _CRLF.join(lines) + _CRLF + _CRLF

    def compute_headers_buffer(self, header_filter: object = None) -> None:
        """Keep ``headers_buff`` exactly as built."""


class _Latin1Parser(StatusAndHeadersParser):  # type: ignore[misc]
    """warcio's header parser reading one character per byte.

    warcio decodes each header line as UTF-8 and falls back to latin-1, so the
    same bytes could come back as different text; the writer stores text as
    latin-1, and latin-1 gives every byte back unchanged.
    """

    @staticmethod
    def decode_header(line: bytes | str) -> str:
        return line.decode("latin-1") if isinstance(line, bytes) else line


_HTTP_PARSER = _Latin1Parser([], verify=False)


@dataclass(frozen=True)
class HttpMessage:
    """A parsed HTTP response head with its body (the body as stored)."""

    protocol: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes


def parse_http_response(block: bytes) -> HttpMessage:
    """Split an ``application/http; msgtype=response`` block into status, headers, body."""
    stream = BytesIO(block)
    try:
        head = _HTTP_PARSER.parse(stream)
    except EOFError:
        raise ValueError("empty HTTP response block") from None
    protocol = str(head.protocol)
    code, _, reason = str(head.statusline).partition(" ")
    if not protocol.startswith("HTTP/") or not code.isdigit():
        raise ValueError(f"not an HTTP status line: {protocol[:20]!r} {code[:20]!r}")
    headers = [(str(name), str(value)) for name, value in head.headers]
    return HttpMessage(protocol, int(code), reason, headers, stream.read())


def warc_fields(fields: list[tuple[str, str]]) -> bytes:
    """An ``application/warc-fields`` block."""
    return b"".join(f"{clean_field(k)}: {clean_field(v)}\r\n".encode() for k, v in fields)


def parse_fields(block: bytes) -> dict[str, str]:
    """An ``application/warc-fields`` block as a dict (first value of each name wins)."""
    fields: dict[str, str] = {}
    for line in block.decode("utf-8", errors="replace").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            fields.setdefault(name.strip().lower(), value.strip())
    return fields
