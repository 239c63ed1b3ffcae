"""Template filters for snapshot pages."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from kuaizhao.archive import mementos
from kuaizhao.archive.models import Capture

register = template.Library()
SHANGHAI = ZoneInfo("Asia/Shanghai")
_IMG_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]+)(")')


@register.filter
def cst(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A time as readers in China read it: Asia/Shanghai, ``2023-05-09 20:36:00``."""
    if value is None:
        return ""
    return value.astimezone(SHANGHAI).strftime(fmt)


@register.filter
def archived_images(html: str) -> SafeString:
    """Point every image of sanitised body HTML at the archive's own copy."""

    def swap(match: re.Match[str]) -> str:
        original = match.group(2).replace("&amp;", "&")
        return f"{match.group(1)}/img?url={quote(original, safe='')}{match.group(3)}"

    return mark_safe(_IMG_SRC.sub(swap, html))


@register.filter
def highlight(text: str, terms: tuple[str, ...] | list[str]) -> SafeString:
    """``text`` escaped, with each occurrence of any term wrapped in ``<mark>``."""
    wanted = [t for t in terms if t]
    if not wanted:
        return escape(text)
    pattern = re.compile(
        "|".join(re.escape(t) for t in sorted(wanted, key=len, reverse=True)), re.I
    )
    out: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        out.append(escape(text[last : match.start()]))
        out.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out))


@register.filter
def memento(capture: Capture, modifier: str = "") -> str:
    """The archive address of a capture: ``/web/<timestamp><modifier>/<url>``."""
    return mementos.memento_path(capture, modifier)
