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


# Where the extractor found a field (kuaizhao.extract: the rule's place, then the label it
# matched), in words a reader understands.
_PLACES = {
    "h1": "网页的一级标题（h1）",
    "title": "网页的 <title>",
    "og:title": "网页元数据 og:title",
    "breadcrumb": "网页的导航路径（面包屑）",
    "meta-line": "标题下方的信息行",
    "body-line": "正文中的信息行",
    "body byline": "正文中的署名",
    "lead byline": "正文开头的电头署名",
    "after-body": "正文之后的信息行",
    "above-title": "标题上方的信息行",
    "meta source": "网页元数据（meta）",
    "url": "网址",
}


@register.filter
def provenance(where: str | None) -> str:
    """``meta-line 来源`` → ``取自：标题下方的信息行“来源”``; nothing known → 原文."""
    if not where:
        return "取自：原文"
    for place in sorted(_PLACES, key=len, reverse=True):
        if where == place or where.startswith(place + " "):
            label = where[len(place) :].strip()
            return f"取自：{_PLACES[place]}" + (f"“{label}”" if label else "")
    tag, _, rest = where.partition(" ")
    if tag.isalnum() and tag.isascii() and len(tag) <= 6:
        return f"取自：网页的 <{tag}> 元素" + (f"（{rest}）" if rest else "")
    return f"取自：{where}"


_HAN = re.compile(r"[\u3400-\u9fff]")


@register.filter
def reader_message(message: object) -> str:
    """An error message meant for readers (ours are Chinese); Django's English internals
    ("No Article matches the given query.", "Resolver404") are not shown."""
    text = str(message or "")
    return text if _HAN.search(text) else ""
