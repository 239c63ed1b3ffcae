"""Undo HTTP Content-Encoding (gzip, deflate, br, zstd) with a hard output limit."""

from __future__ import annotations

import zlib
from collections.abc import Callable

from kuaizhao.warc.errors import PayloadDecodeError

DEFAULT_MAX_PAYLOAD = 50 * 1024 * 1024
_CHUNK = 64 * 1024


def _grow(out: bytearray, chunk: bytes, limit: int) -> None:
    out += chunk
    if len(out) > limit:
        raise PayloadDecodeError(f"decoded payload exceeds the limit of {limit} bytes")


def _zlib_stream(data: bytes, wbits: int, limit: int) -> bytes:
    out = bytearray()
    pending = data
    while pending:
        decomp = zlib.decompressobj(wbits)
        _grow(out, decomp.decompress(pending, _CHUNK), limit)
        while not decomp.eof:
            tail = decomp.unconsumed_tail
            chunk = decomp.decompress(tail, _CHUNK)
            if not chunk and len(decomp.unconsumed_tail) >= len(tail):
                raise PayloadDecodeError("compressed payload is truncated")
            _grow(out, chunk, limit)
        # gzip allows several members back to back; other trailing bytes are ignored
        pending = decomp.unused_data if wbits > 16 else b""
        if not pending.startswith(b"\x1f\x8b"):
            break
    return bytes(out)


def _gunzip(data: bytes, limit: int) -> bytes:
    return _zlib_stream(data, 16 + zlib.MAX_WBITS, limit)


def _inflate(data: bytes, limit: int) -> bytes:
    try:
        return _zlib_stream(data, zlib.MAX_WBITS, limit)
    except zlib.error:
        return _zlib_stream(data, -zlib.MAX_WBITS, limit)  # raw deflate, as some servers send


def _unbrotli(data: bytes, limit: int) -> bytes:
    try:
        import brotli  # type: ignore[import-untyped]
    except ImportError:
        raise PayloadDecodeError("br payload but the brotli module is missing") from None
    decomp = brotli.Decompressor()
    out = bytearray()
    try:
        _grow(out, decomp.process(data, output_buffer_limit=_CHUNK), limit)
        while not decomp.is_finished():
            chunk = decomp.process(b"", output_buffer_limit=_CHUNK)
            if not chunk:
                raise PayloadDecodeError("compressed payload is truncated")
            _grow(out, chunk, limit)
    except brotli.error as exc:
        raise PayloadDecodeError(f"corrupt br payload: {exc}") from None
    return bytes(out)


def _unzstd(data: bytes, limit: int) -> bytes:
    try:
        from backports import zstd
    except ImportError:
        raise PayloadDecodeError("zstd payload but the zstd module is missing") from None
    out = bytearray()
    pending = data
    try:
        while pending:
            decomp = zstd.ZstdDecompressor()
            _grow(out, decomp.decompress(pending, max_length=_CHUNK), limit)
            while not decomp.eof:
                if decomp.needs_input:
                    raise PayloadDecodeError("compressed payload is truncated")
                _grow(out, decomp.decompress(b"", max_length=_CHUNK), limit)
            pending = decomp.unused_data
    except zstd.ZstdError as exc:
        raise PayloadDecodeError(f"corrupt zstd payload: {exc}") from None
    return bytes(out)


_DECODERS: dict[str, Callable[[bytes, int], bytes]] = {
    "gzip": _gunzip,
    "x-gzip": _gunzip,
    "deflate": _inflate,
    "br": _unbrotli,
    "zstd": _unzstd,
}


def decode_content(
    body: bytes, content_encoding: str | None, limit: int = DEFAULT_MAX_PAYLOAD
) -> bytes:
    """``body`` with its Content-Encoding undone; raises :class:`PayloadDecodeError`."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not body or not codings:
        if len(body) > limit:
            raise PayloadDecodeError(f"payload exceeds the limit of {limit} bytes")
        return body
    for coding in reversed(codings):
        decoder = _DECODERS.get(coding)
        if decoder is None:
            raise PayloadDecodeError(f"unsupported Content-Encoding {coding!r}")
        try:
            body = decoder(body, limit)
        except zlib.error as exc:
            raise PayloadDecodeError(f"corrupt {coding} payload: {exc}") from None
    return body
