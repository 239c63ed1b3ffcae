"""Errors raised while reading WARC files."""

from __future__ import annotations


class WarcError(Exception):
    """A WARC file is damaged or unreadable; the message names the file and offset."""

    def __init__(self, message: str, *, path: str | None = None, offset: int | None = None):
        where = ""
        if path is not None:
            where = path if offset is None else f"{path} @ {offset}"
        super().__init__(f"{where}: {message}" if where else message)
        self.path = path
        self.offset = offset


class PayloadDecodeError(WarcError):
    """A payload cannot be content-decoded (unknown coding, corrupt, or over the size limit)."""
