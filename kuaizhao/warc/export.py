"""Copy WARC files, or the records of them captured since a moment, to another directory.

Records are copied as the gzip members they are, byte for byte, so every digest, record
ID and date stays exactly as written; a partial copy keeps each file's ``warcinfo``
record and names the new file after the old one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from kuaizhao.warc.reader import DEFAULT_MAX_RECORD, _iter_records
from kuaizhao.warc.records import parse_date
from kuaizhao.warc.writer import OPEN_SUFFIX


@dataclass
class ExportStats:
    files: int = 0
    records: int = 0
    bytes: int = 0
    skipped_files: list[str] = field(default_factory=list)


def _keep(record_type: str, date: str | None, since: datetime | None) -> bool:
    if record_type == "warcinfo" or not date:
        return False
    if since is None:
        return True
    try:
        return parse_date(date) >= since
    except ValueError:
        return False


def export_warcs(
    paths: Iterable[Path],
    destination: Path,
    *,
    since: datetime | None = None,
    drop: Callable[[str], bool] | None = None,
) -> ExportStats:
    """Copy ``paths`` (closed WARC files) into ``destination``; with ``since``, only records
    dated at or after it (a file with none is left out); records whose target URI ``drop``
    refuses are left out too."""
    destination.mkdir(parents=True, exist_ok=True)
    stats = ExportStats()
    for path in paths:
        target = destination / path.name
        temp = destination / (path.name + OPEN_SUFFIX)
        if since is None and drop is None:
            shutil.copyfile(path, temp)
            with open(path, "rb") as fh:
                records = _iter_records(fh, str(path), DEFAULT_MAX_RECORD)
                stats.records += sum(1 for r in records if r.type != "warcinfo")
        else:
            kept = 0
            with open(path, "rb") as src, open(temp, "wb") as out:
                ranges: list[tuple[int, int]] = []
                for record in _iter_records(src, str(path), DEFAULT_MAX_RECORD):
                    if record.type == "warcinfo" and not ranges:
                        ranges.append((record.offset, record.length))
                    elif _keep(record.type, record.get("WARC-Date"), since) and not (
                        drop and drop(record.get("WARC-Target-URI") or "")
                    ):
                        ranges.append((record.offset, record.length))
                        kept += 1
                for offset, length in ranges:
                    src.seek(offset)
                    out.write(src.read(length))
            if not kept:
                temp.unlink()
                stats.skipped_files.append(path.name)
                continue
            stats.records += kept
        with open(temp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(temp, target)
        stats.files += 1
        stats.bytes += target.stat().st_size
    return stats
