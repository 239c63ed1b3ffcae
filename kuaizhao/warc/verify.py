"""Check WARC files: every record readable and whole, every digest right.

Each record's ``WARC-Block-Digest`` is recomputed over its block, and a response's
``WARC-Payload-Digest`` over its HTTP body as stored (a revisit's payload digest names a
payload stored elsewhere, so only its block is checked). A damaged or torn file reports
where the damage starts.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kuaizhao.warc.errors import WarcError
from kuaizhao.warc.reader import DEFAULT_MAX_RECORD, _iter_records
from kuaizhao.warc.records import parse_http_response

ALGORITHMS = {"sha1": "sha1", "sha256": "sha256", "sha512": "sha512", "md5": "md5"}


def digest_matches(label: str, data: bytes) -> bool | None:
    """Whether ``label`` (``sha1:BASE32`` or hex) is the digest of ``data``; None if the
    algorithm is unknown.

    >>> digest_matches("sha1:Q336IN72UWT7ZYK5DXOLT2XK5I3XMZ5Y", b"a")
    True
    >>> digest_matches("sha1:86f7e437faa5a7fce15d1ddcb9eaeaea377667b8", b"a")
    True
    >>> digest_matches("sha1:AAAA", b"a"), digest_matches("crc32:00", b"a")
    (False, None)
    """
    algorithm, _, value = label.strip().partition(":")
    name = ALGORITHMS.get(algorithm.lower().replace("-", ""))
    if name is None:
        return None
    raw = hashlib.new(name, data).digest()
    value = value.strip()
    return value.upper() == base64.b32encode(raw).decode() or value.lower() == raw.hex()


@dataclass(frozen=True)
class RecordCheck:
    offset: int
    length: int
    record_type: str
    target: str
    payload_digest: str | None


@dataclass
class FileReport:
    name: str
    records: list[RecordCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _check(block: bytes, get: dict[str, str], where: str) -> Iterator[str]:
    block_digest = get.get("warc-block-digest")
    if block_digest:
        match = digest_matches(block_digest, block)
        if match is False:
            yield f"{where}: WARC-Block-Digest does not match the block"
        elif match is None:
            yield f"{where}: unknown digest algorithm {block_digest.split(':')[0]!r}"
    payload_digest = get.get("warc-payload-digest")
    record_type = get.get("warc-type", "").lower()
    if payload_digest and record_type in ("response", "resource", "request"):
        if (get.get("content-type") or "").startswith("application/http"):
            try:
                payload = parse_http_response(block).body if record_type == "response" else None
            except ValueError as exc:
                yield f"{where}: HTTP message cannot be parsed: {exc}"
                return
            if payload is None:
                return
        else:
            payload = block
        if digest_matches(payload_digest, payload) is False:
            yield f"{where}: WARC-Payload-Digest does not match the payload"


def verify_file(path: Path, *, max_record: int = DEFAULT_MAX_RECORD) -> FileReport:
    """Re-read every record of one WARC file and check its digests."""
    path = Path(path)
    report = FileReport(path.name)
    try:
        with path.open("rb") as fh:
            for record in _iter_records(fh, str(path), max_record):
                get = {k.lower(): v for k, v in reversed(record.headers)}
                where = f"{path.name} @ {record.offset}"
                report.problems.extend(_check(record.block, get, where))
                report.records.append(
                    RecordCheck(
                        record.offset,
                        record.length,
                        record.type,
                        get.get("warc-target-uri", ""),
                        get.get("warc-payload-digest"),
                    )
                )
    except WarcError as exc:
        report.problems.append(str(exc))
    except OSError as exc:
        report.problems.append(f"{path.name}: cannot read: {exc}")
    return report
