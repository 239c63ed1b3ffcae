"""Raw replay: a captured page served from its WARC record, every link pointing into the
archive, nothing fetched from the live web, and nothing of it able to act on this site.

The rewritten page is served under a Content-Security-Policy whose ``sandbox`` directive
gives it an opaque origin (it cannot read this site's cookies or storage, even when opened
directly) and which forbids every script and every load from anywhere but this site; the
page that frames it adds a ``sandbox`` iframe. Links a reader follows open the archived
copy of their target (``/web/<timestamp>/<url>``), embedded resources load the archived
copy closest in time (``/web/<timestamp>if_/<url>``), and whatever the archive does not
hold is simply missing.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from kuaizhao.lib.surt import join_url
from kuaizhao.lib.zh import decode_html

FRAME_SANDBOX = "allow-top-navigation-by-user-activation"
"""The iframe's sandbox: no scripts, no forms, no popups, no same-origin; a click on a
link may open the archived target in the whole window."""

CONTENT_POLICY = "; ".join(
    [
        f"sandbox {FRAME_SANDBOX}",
        "default-src 'none'",
        "img-src 'self' data:",
        "style-src 'self' 'unsafe-inline'",
        "font-src 'self' data:",
        "media-src 'self'",
        "frame-src 'self'",
        "form-action 'none'",
        "base-uri 'none'",
        "frame-ancestors 'self'",
    ]
)
"""For rewritten pages and archived resources: scripts never run (no script-src), nothing
loads from elsewhere, and the document is sandboxed whatever frames it."""

RAW_POLICY = "sandbox; default-src 'none'; frame-ancestors 'none'"
"""For the unmodified bytes (``id_``): shown as they are, nothing loads or runs."""

_NAVIGATION = {("a", "href"), ("area", "href"), ("form", "action")}
_EMBED_DATA = {("img", "src"), ("source", "src"), ("input", "src"), ("video", "poster")}
_DROP_META = ("refresh", "content-security-policy", "content-type", "set-cookie")
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]*)\1\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(['"])([^'"]*)\1""", re.IGNORECASE)
_URL_ATTRS = (
    "href",
    "src",
    "action",
    "background",
    "poster",
    "cite",
    "longdesc",
    "data",
    "formaction",
    "codebase",
    "usemap",
    "manifest",
    "ping",
    "lowsrc",
    "dynsrc",
    "icon",
    "profile",
    "archive",
    "classid",
    "xlink:href",
)


class Rewriter:
    """Maps the URLs of one captured page (``base``, captured at ``timestamp``) into the
    archive."""

    def __init__(self, base: str, timestamp: str) -> None:
        self.base = base
        self.timestamp = timestamp

    def absolute(self, link: str) -> str | None:
        """``link`` resolved against the page, if it is an http(s) URL."""
        link = link.strip()
        if not link:
            return None
        resolved = join_url(self.base, link)
        if resolved is None:
            return None
        return resolved if urlsplit(resolved).scheme.lower() in ("http", "https") else None

    def page(self, link: str) -> str:
        """Where a followed link goes: the archived page, in the whole window."""
        if link.strip().startswith("#"):
            return link.strip()
        target = self.absolute(link)
        if target is None:
            return "#" if not link.strip().lower().startswith(("mailto:", "tel:")) else link
        return f"/web/{self.timestamp}/{target}"

    def resource(self, link: str, allow_data: bool = False) -> str:
        """Where an embedded resource loads from: the archived copy, or nowhere."""
        if allow_data and link.strip().lower().startswith("data:image/"):
            return link.strip()
        target = self.absolute(link)
        return f"/web/{self.timestamp}if_/{target}" if target else "about:blank"

    def srcset(self, value: str) -> str:
        out = []
        for candidate in value.split(","):
            parts = candidate.strip().split(None, 1)
            if parts:
                parts[0] = self.resource(parts[0], allow_data=True)
                out.append(" ".join(parts))
        return ", ".join(out)

    def css(self, text: str) -> str:
        text = _CSS_URL.sub(lambda m: f'url("{self.resource(m.group(2), True)}")', text)
        return _CSS_IMPORT.sub(lambda m: f'@import "{self.resource(m.group(2))}"', text)


def _base_href(doc: lxml.html.HtmlElement, url: str) -> str:
    for base in doc.iter("base"):
        href = base.get("href")
        if href:
            return join_url(url, href.strip()) or url
    return url


def rewrite_html(payload: bytes, content_type: str | None, url: str, timestamp: str) -> bytes:
    """The captured page with every URL pointing into the archive, as UTF-8."""
    text, _ = decode_html(payload, content_type)
    if not text.strip():
        return b""
    try:
        doc = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return b""
    rewriter = Rewriter(_base_href(doc, url), timestamp)
    for element in list(doc.iter()):
        if not isinstance(element.tag, str):  # comments, processing instructions
            continue
        tag = element.tag.lower()
        if tag == "base" or (
            (tag == "meta" and (element.get("http-equiv") or "").strip().lower() in _DROP_META)
            or (tag == "meta" and element.get("charset") is not None)
        ):
            element.drop_tree()
            continue
        for name in list(element.attrib):
            low = name.lower()
            value = element.get(name) or ""
            if low.startswith("on"):
                del element.attrib[name]  # never runs here; kept out of reach all the same
            elif low in ("srcset", "imagesrcset"):
                element.set(name, rewriter.srcset(value))
            elif low == "style":
                element.set(name, rewriter.css(value))
            elif low in ("integrity", "nonce"):
                del element.attrib[name]
            elif low in _URL_ATTRS:
                if (tag, low) in _NAVIGATION:
                    target = rewriter.page(value)
                    element.set(name, target)
                    if tag != "form" and target.startswith("/web/"):
                        element.set("target", "_top")
                else:
                    element.set(name, rewriter.resource(value, (tag, low) in _EMBED_DATA))
        if tag == "style" and element.text:
            element.text = rewriter.css(element.text)
    head = doc.find("head")
    if head is None:
        head = lxml.html.Element("head")
        doc.insert(0, head)
    head.insert(0, lxml.html.Element("meta", charset="utf-8"))
    html = lxml.html.tostring(doc, encoding="unicode", doctype="<!DOCTYPE html>")
    return html.encode("utf-8")


def rewrite_css(payload: bytes, url: str, timestamp: str) -> bytes:
    text = payload.decode("utf-8", errors="replace")
    return Rewriter(url, timestamp).css(text).encode("utf-8")
