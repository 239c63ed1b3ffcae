"""CDXJ: the plain-text index of captures that pywb and other archive tools read.

One line per response or revisit record, sorted::

    <SURT key> <14-digit UTC timestamp> {"url": …, "mime": …, "status": …, "digest": …,
                                         "length": …, "offset": …, "filename": …}

Fields and their order follow pywb's ``cdx-indexer -j`` (a revisit's mime is
``warc/revisit`` and it has no status); the digest is the base32 SHA-1 without its
``sha1:`` label. The catalogue's ``Capture`` rows hold the same facts; this module writes
them from the WARC files alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from kuaizhao.lib.surt import BadUrl, surt
from kuaizhao.warc.reader import WarcCapture, iter_captures

FIELDS = ("urlkey", "timestamp", "url", "mime", "status", "digest", "length", "offset", "filename")
REVISIT_MIME = "warc/revisit"


def timestamp14(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def bare_digest(label: str) -> str:
    """``sha1:ABC…`` → ``ABC…`` (other algorithms keep their label, as pywb does)."""
    return label[5:] if label.lower().startswith("sha1:") else label


@dataclass(frozen=True)
class CdxEntry:
    urlkey: str
    timestamp: str
    url: str
    mime: str
    status: int | None
    digest: str
    length: int
    offset: int
    filename: str

    @classmethod
    def make(
        cls,
        *,
        url: str,
        captured_at: datetime,
        record_type: str,
        mime: str,
        status: int,
        digest: str,
        length: int,
        offset: int,
        filename: str,
        urlkey: str | None = None,
    ) -> CdxEntry:
        revisit = record_type == "revisit"
        if urlkey is None:
            try:
                urlkey = surt(url)
            except BadUrl:
                urlkey = url
        return cls(
            urlkey=urlkey,
            timestamp=timestamp14(captured_at),
            url=url,
            mime=REVISIT_MIME if revisit else (mime or "unk"),
            status=None if revisit else status,
            digest=bare_digest(digest),
            length=length,
            offset=offset,
            filename=filename,
        )

    @classmethod
    def of(cls, capture: WarcCapture) -> CdxEntry:
        return cls.make(
            url=capture.url,
            captured_at=capture.captured_at,
            record_type=capture.record_type,
            mime=capture.content_type,
            status=capture.status,
            digest=capture.payload_digest or "",
            length=capture.length,
            offset=capture.offset,
            filename=capture.warc_file,
        )

    def fields(self, names: Iterable[str] = FIELDS) -> dict[str, str]:
        """The named fields as strings (an absent status is left out)."""
        values = {
            "urlkey": self.urlkey,
            "timestamp": self.timestamp,
            "url": self.url,
            "mime": self.mime,
            "status": "" if self.status is None else str(self.status),
            "digest": self.digest,
            "length": str(self.length),
            "offset": str(self.offset),
            "filename": self.filename,
        }
        return {name: values[name] for name in names if values[name] != "" or name != "status"}

    def cdxj(self, names: Iterable[str] = FIELDS[2:]) -> str:
        """One CDXJ line (without its newline)."""
        block = json.dumps(self.fields(n for n in names if n not in FIELDS[:2]), ensure_ascii=False)
        return f"{self.urlkey} {self.timestamp} {block}"

    def text(self, names: Iterable[str] = FIELDS) -> str:
        """One space-separated line, ``-`` for an absent field (pywb's ``output=text``)."""
        values = self.fields(FIELDS)
        return " ".join(values.get(name) or "-" for name in names)

    def sort_key(self) -> tuple[str, str, str, int]:
        return (self.urlkey, self.timestamp, self.filename, self.offset)


def index_warc(path: Path) -> Iterator[CdxEntry]:
    """Every response and revisit record of one WARC file, in file order."""
    for capture in iter_captures(path):
        yield CdxEntry.of(capture)


def write_cdxj(paths: Iterable[Path], out: TextIO) -> int:
    """A sorted CDXJ index of ``paths`` written to ``out``; returns the number of lines."""
    entries = sorted((e for p in paths for e in index_warc(p)), key=CdxEntry.sort_key)
    for entry in entries:
        out.write(entry.cdxj() + "\n")
    return len(entries)
