"""Per-path fault injection: the one place where a response can be made to misbehave.

``App.faults`` maps a request path to a :class:`Fault`; :func:`apply_fault` is called
for every response before it is written. Nothing is registered by default; faults
are set with ``POST /_control/fault`` (``{"path": "/x.html", "kind": "redirect_loop"}``
or the fields below) or ``--fault PATH=KIND`` on the command line.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kuaizhao.sampleweb.app import Response

MALFORMED = ("status", "headers", "length")


@dataclass(frozen=True)
class Fault:
    delay: float = 0.0  # seconds before the response is written ("slow")
    truncate: int | None = None  # send only this many body bytes, then close ("truncated")
    charset: str | None = None  # lie about the charset in Content-Type ("wrong charset")
    pad: int = 0  # append this many bytes of HTML comment ("huge", "oversize")
    drip: float = 0.0  # seconds between body chunks of `drip_bytes` ("slow drip")
    drip_bytes: int = 64
    redirect_loop: bool = False  # 302 to the same path with ?hop=N+1, forever
    status: int | None = None  # answer this status instead (e.g. 503)
    retry_after: str | None = None  # with `status`: a Retry-After header
    bomb: int = 0  # a gzip body that inflates to this many bytes ("gzip bomb")
    malformed: str | None = None  # status | headers | length: a broken HTTP response
    validators: bool = True  # False: no ETag/Last-Modified, so no 304s


KINDS: dict[str, dict[str, Any]] = {
    "slow": {"delay": 5.0},
    "oversize": {"pad": 12_000_000},
    "slow_drip": {"drip": 1.0, "drip_bytes": 16},
    "redirect_loop": {"redirect_loop": True},
    "unavailable": {"status": 503, "retry_after": "1"},
    "gzip_bomb": {"bomb": 200_000_000},
    "malformed": {"malformed": "status"},
    "no_validators": {"validators": False},
    "truncated": {"truncate": 100},
}
"""Named faults for the control API and the command line."""


def make_fault(data: dict[str, Any]) -> Fault:
    """A fault from a named ``kind`` and/or explicit fields; ``ValueError`` on bad input."""
    values: dict[str, Any] = {}
    kind = data.get("kind")
    if kind is not None:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r} (known: {', '.join(sorted(KINDS))})")
        values.update(KINDS[kind])
    types = {f.name: f.type for f in fields(Fault)}
    for key, value in data.items():
        if key in ("kind", "path"):
            continue
        if key not in types:
            raise ValueError(f"unknown fault field {key!r}")
        if isinstance(value, bool) != ("bool" in str(types[key])) and value is not None:
            raise ValueError(f"fault field {key!r} has the wrong type")
        values[key] = value
    fault = Fault(**values)
    if fault.malformed is not None and fault.malformed not in MALFORMED:
        raise ValueError(f"malformed must be one of {', '.join(MALFORMED)}")
    return fault


@lru_cache(maxsize=4)
def _bomb(size: int) -> bytes:
    return gzip.compress(b"<html><body>" + b" " * size, compresslevel=9, mtime=0)


def _next_hop(target: str) -> str:
    path, _, query = target.partition("?")
    hop = 0
    for part in query.split("&"):
        if part.startswith("hop=") and part[4:].isdigit():
            hop = int(part[4:])
    return f"{path}?hop={hop + 1}"


def apply_fault(response: Response, fault: Fault | None, target: str = "") -> Response:
    if fault is None:
        return response
    out = response
    if fault.charset is not None:
        mime = out.content_type.split(";")[0]
        out = replace(out, content_type=f"{mime}; charset={fault.charset}", gzip_ok=False)
    if fault.pad > 0:
        out = replace(out, body=out.body + b"<!--" + b" " * fault.pad + b"-->", gzip_ok=False)
    if fault.truncate is not None:
        out = replace(out, truncate=fault.truncate, gzip_ok=False)
    if fault.delay > 0:
        out = replace(out, delay=fault.delay)
    if fault.drip > 0:
        out = replace(out, drip=fault.drip, drip_bytes=max(1, fault.drip_bytes), gzip_ok=False)
    if not fault.validators:
        out = replace(out, etag=None, last_modified=None)
    if fault.redirect_loop:
        out = replace(
            out, status=302, body=b"", etag=None, extra=(("Location", _next_hop(target)),)
        )
    if fault.status is not None:
        extra = (("Retry-After", fault.retry_after),) if fault.retry_after else ()
        out = replace(out, status=fault.status, body=b"busy", etag=None, extra=extra)
    if fault.bomb > 0:
        out = replace(
            out,
            body=_bomb(fault.bomb),
            gzip_ok=False,
            etag=None,
            extra=(("Content-Encoding", "gzip"),),
        )
    if fault.malformed is not None:
        out = replace(out, malformed=fault.malformed)
    return out
