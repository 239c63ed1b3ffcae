"""Recovery of WARC files a killed crawler left open (``*.warc.gz.open``).

Each capture is appended as whole gzip members (request, response or revisit,
metadata), so a file cut by ``kill -9`` holds complete captures followed by at
most one torn capture. :func:`recover_open_files` keeps every complete gzip
member up to the last complete capture (a member holding a ``metadata`` or
``warcinfo`` record ends a group), cuts the rest, and renames the file to its
closed name so ingest picks it up. A file with nothing complete is removed.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import zlib
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

OPEN_SUFFIX = ".open"
_CHUNK = 1 << 16
_GROUP_ENDS = (b"warcinfo", b"metadata")


@dataclass(frozen=True)
class Recovered:
    path: Path
    kept: int
    """Bytes kept."""
    cut: int
    """Bytes of torn tail removed."""


def _member_ends(path: Path) -> list[tuple[int, bytes]]:
    """(end offset, WARC-Type) of every complete gzip member, in order."""
    ends: list[tuple[int, bytes]] = []
    with path.open("rb") as fh:
        data = fh.read()
    offset = 0
    while offset < len(data):
        d = zlib.decompressobj(wbits=31)
        head = b""
        pos = offset
        try:
            while not d.eof and pos < len(data):
                chunk = data[pos : pos + _CHUNK]
                out = d.decompress(chunk)
                if len(head) < 4096:
                    head += out[: 4096 - len(head)]
                pos += len(chunk) - len(d.unused_data)
                if d.unused_data:
                    break
        except zlib.error:
            break
        if not d.eof:
            break
        record_type = b""
        for line in head.split(b"\r\n", 30):
            if line.lower().startswith(b"warc-type:"):
                record_type = line.split(b":", 1)[1].strip().lower()
                break
        ends.append((pos, record_type))
        offset = pos
    return ends


def recover_file(path: Path) -> Recovered | None:
    """Repair one ``.open`` file in place and rename it closed; None if nothing was kept."""
    path = Path(path)
    size = path.stat().st_size
    ends = _member_ends(path)
    keep = 0
    for end, record_type in ends:
        if record_type in _GROUP_ENDS:
            keep = end
    if keep == 0 or all(t == b"warcinfo" for e, t in ends if e <= keep):
        path.unlink()
        log.warning("removed %s: no complete capture in it", path.name)
        return None
    with path.open("r+b") as fh:
        fh.truncate(keep)
        fh.flush()
        os.fsync(fh.fileno())
    final = path.with_name(path.name[: -len(OPEN_SUFFIX)])
    os.replace(path, final)
    if keep < size:
        log.warning("recovered %s: cut a torn tail of %d bytes", final.name, size - keep)
    return Recovered(final, keep, size - keep)


def _alnum(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text)


def _writer_alive(name: str) -> bool:
    """True if the file's writer (``<prefix>-<time>-<host>-<pid>-<serial>``) may still run.

    Files written on another machine count as alive: only their own host recovers them.
    """
    parts = name.split("-")
    if len(parts) < 5 or not parts[-2].isdigit():
        return False
    host = "-".join(parts[2:-2])
    if _alnum(host) != _alnum(socket.gethostname()):
        return True
    pid = int(parts[-2])
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_open_files(directory: Path) -> list[Recovered]:
    """Recover every ``.open`` WARC file in ``directory`` whose writer is no longer running."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    out = []
    for path in sorted(directory.glob("*.warc.gz" + OPEN_SUFFIX)):
        if _writer_alive(path.name):
            continue
        result = recover_file(path)
        if result is not None:
            out.append(result)
    return out
