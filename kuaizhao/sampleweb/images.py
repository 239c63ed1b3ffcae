"""Small deterministic PNG images drawn from the request path."""

from __future__ import annotations

import struct
import zlib

WIDTH = 120
HEIGHT = 80


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_for(key: str, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """An RGB PNG: a background colour and a band, both derived from ``key``."""
    h = zlib.crc32(key.encode("utf-8"))
    bg = bytes(((h >> 16) & 0xFF, (h >> 8) & 0xFF, h & 0xFF))
    band = bytes((255 - bg[0], 255 - bg[1], 255 - bg[2]))
    top, bottom = height // 3, height // 3 + max(4, (h >> 24) % (height // 2))
    plain = b"\x00" + bg * width
    striped = b"\x00" + bg * (width // 4) + band * (width - width // 4)
    raw = b"".join(striped if top <= y < bottom else plain for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 6))
        + _chunk(b"IEND", b"")
    )
