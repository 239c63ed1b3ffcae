"""Per-path fault injection: the one place where a response can be made to misbehave.

``App.faults`` maps a request path to a :class:`Fault`; :func:`apply_fault` is called
for every response before it is written. Nothing is registered by default.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kuaizhao.sampleweb.app import Response


@dataclass(frozen=True)
class Fault:
    delay: float = 0.0  # seconds before the response is written ("slow")
    truncate: int | None = None  # send only this many body bytes, then close ("truncated")
    charset: str | None = None  # lie about the charset in Content-Type ("wrong charset")
    pad: int = 0  # append this many bytes of HTML comment ("huge")


def apply_fault(response: Response, fault: Fault | None) -> Response:
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
    return out
