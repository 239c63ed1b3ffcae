"""Pagination of multi-page articles: which page this is, and where the next one is."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from kuaizhao.extract.html import HtmlElement, token_set
from kuaizhao.lib.surt import join_url
from kuaizhao.lib.zh import normalize

_NEXT_TEXT = re.compile(r"^(?:下一页|下页|后一页|下一頁|下壹页|Next|next)\s*[>›»]*$")
_URL_PAGE = re.compile(r"_(\d{1,3})\.(s?html?|php|aspx?|jsp)$", re.IGNORECASE)
_DIGIT = re.compile(r"\d")
"""A page number's text has a digit before normalisation too (it only half-widths them)."""
_NEXT_START = re.compile(r"[下后NnＮｎ]")
"""Characters a "next page" text can begin with, before normalisation."""
_ACTIVE = frozenset({"active", "current", "cur", "on", "selected", "curr", "now", "thisclass"})


def _href(a: HtmlElement) -> str | None:
    href = (a.get("href") or "").strip()
    if not href or href.startswith(("#", "javascript:", "mailto:")):
        return None
    return href


def _stem(url: str) -> str:
    path = urlsplit(url).path
    path = _URL_PAGE.sub("", path)
    return re.sub(r"\.(s?html?|php|aspx?|jsp)$", "", path, flags=re.IGNORECASE)


def page_from_url(url: str | None) -> int | None:
    if not url:
        return None
    m = _URL_PAGE.search(urlsplit(url).path)
    if m:
        n = int(m.group(1))
        return n if 2 <= n <= 200 else None
    return None


def first_page_url(url: str) -> str | None:
    """The URL of page 1 when ``url`` names a later page by its shape (``…_2.html``)."""
    parts = urlsplit(url)
    m = _URL_PAGE.search(parts.path)
    if not m or page_from_url(url) is None:
        return None
    path = parts.path[: m.start()] + "." + m.group(2)
    return parts._replace(path=path).geturl()


def _same_article(href: str, url: str | None) -> bool:
    if not url:
        return True
    return _stem(href) == _stem(url) or urlsplit(href).path == urlsplit(url).path


def _numbered_links(root: HtmlElement, url: str | None) -> tuple[dict[int, str], int | None]:
    """Page-number links of this article, and the number of the active (unlinked) item."""
    links: dict[int, str] = {}
    active: int | None = None
    for el in root.iter("a", "span", "strong", "b", "em", "font"):  # an <li> holds its <a>
        raw = el.text_content() or ""
        if not _DIGIT.search(raw):
            continue
        text = normalize(raw)
        if not re.fullmatch(r"\[?\d{1,3}\]?", text):
            continue
        n = int(text.strip("[]"))
        href = _href(el) if el.tag == "a" else None
        if href is not None:
            absolute = join_url(url, href) if url else href
            if absolute is not None and _same_article(absolute, url):
                links.setdefault(n, absolute)
                if token_set(el) & _ACTIVE:
                    active = n
        elif token_set(el) & _ACTIVE or el.tag in ("span", "strong", "b"):
            parent = el.getparent()
            if parent is not None and any(c.tag == "a" and _href(c) for c in parent):
                active = active or n
    return links, active


def pagination(root: HtmlElement, url: str | None) -> tuple[int, str | None]:
    """(page number, absolute URL of the next page or None)."""
    links, active = _numbered_links(root, url)
    number = page_from_url(url) or active or 1
    if url and links:
        for n, href in links.items():
            if href == url or urlsplit(href).path == urlsplit(url).path:
                number = number if page_from_url(url) else (active or n)
    next_url: str | None = None
    for a in root.iter("a"):
        raw = a.text_content() or ""
        if not _NEXT_START.search(raw):
            continue
        text = normalize(raw)
        if text and _NEXT_TEXT.match(text):
            link = _href(a)
            if link is not None:
                absolute = join_url(url, link) if url else link
                if absolute is not None and _same_article(absolute, url) and absolute != url:
                    next_url = absolute
                    break
    if next_url is None and links:
        candidate = links.get(number + 1)
        if candidate and candidate != url and (number in links or active or number == 1):
            next_url = candidate
    if next_url is None and url and number == 1 and links:
        m = re.search(r"\.(s?html?)$", urlsplit(url).path)
        if m:
            stem = url[: -len(m.group(0))]
            for href in links.values():
                if href.startswith(stem + "_2."):
                    next_url = href
                    break
    return number, next_url
