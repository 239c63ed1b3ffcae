"""Parse and clean HTML, compute per-node text statistics, and flatten nodes into text lines."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from kuaizhao.lib.zh import normalize

HtmlElement = lxml.html.HtmlElement

NOISE_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "svg",
        "canvas",
        "select",
        "option",
        "textarea",
        "button",
        "input",
        "link",
        "template",
        "audio",
        "video",
        "map",
        "nav",
        "aside",
        "footer",
    }
)
BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "td",
        "th",
        "tr",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "caption",
        "blockquote",
        "section",
        "article",
        "figure",
        "figcaption",
        "pre",
        "center",
        "header",
        "main",
        "address",
        "hr",
        "form",
        "fieldset",
        "body",
        "html",
    }
)
PUNCT = "，。！？；、：“”"
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*>", re.IGNORECASE)
_WS = re.compile(r"\s+")


def parse(text: str) -> HtmlElement | None:
    """Parse an HTML document; None if there is nothing to parse."""
    text = _XML_DECL.sub("", text.replace("\x00", ""), count=1)
    if len(text) > BIG_RAW:
        text = drop_big_raw_text(text)
    if not text.strip():
        return None
    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=False)
    try:
        root = lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError, etree.XMLSyntaxError):
        return None
    return root


BIG_RAW = 256 * 1024


def drop_big_raw_text(text: str) -> str:
    """Empty every <script>/<style> whose content is over BIG_RAW characters, in one linear pass.

    The HTML parser gives up on a text node over 10 MB, losing the rest of the page; scripts are
    dropped before extraction anyway, so a huge inline data blob must not cost the article.
    """
    lower = text.lower()
    out: list[str] = []
    pos = 0
    found = {"script": lower.find("<script"), "style": lower.find("<style")}
    while True:
        for tag, at in found.items():
            if 0 <= at < pos:  # each search only moves forward: one linear pass in all
                found[tag] = lower.find(f"<{tag}", pos)
        live = [(at, tag) for tag, at in found.items() if at >= 0]
        if not live:
            break
        start, tag = min(live)
        open_end = lower.find(">", start)
        close = lower.find(f"</{tag}", open_end) if open_end >= 0 else -1
        if close < 0:
            break
        out.append(text[pos : open_end + 1])
        if close - open_end <= BIG_RAW:
            out.append(text[open_end + 1 : close])
        pos = close
    out.append(text[pos:])
    return "".join(out)


def clean(root: HtmlElement) -> None:
    """Drop noise elements (scripts, styles, navigation, hidden nodes) in place."""
    doomed: list[HtmlElement] = []
    for el in root.iter(etree.Element):
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in NOISE_TAGS and not (tag == "aside" and el.find(".//h1") is not None):
            doomed.append(el)
            continue
        style = el.get("style")
        if (style and _HIDDEN.search(style)) or el.get("hidden") is not None:
            doomed.append(el)
    for el in doomed:
        parent = el.getparent()
        if parent is None:
            continue
        _drop(el, parent)


def _drop(el: HtmlElement, parent: HtmlElement) -> None:
    tail = el.tail
    if tail and tail.strip():
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def _len(text: str | None) -> int:
    """Characters of ``text`` that are not whitespace."""
    if not text:
        return 0
    return sum(map(len, text.split()))


_PUNCT = re.compile(f"[{PUNCT}]")


def _punct(text: str | None) -> int:
    if not text:
        return 0
    return len(_PUNCT.findall(text))


@dataclass
class Stats:
    """Per-element text statistics, computed bottom-up in one pass."""

    order: list[HtmlElement]
    index: dict[HtmlElement, int]
    text: list[int]  # visible characters (no whitespace) in the subtree
    own: list[int]  # characters directly inside the element (text + children's tails)
    link: list[int]  # characters inside <a> in the subtree
    punct: list[int]  # Chinese punctuation marks in the subtree
    end: list[int] = field(default_factory=list)  # preorder index after the subtree

    def link_density(self, i: int) -> float:
        return self.link[i] / self.text[i] if self.text[i] else 0.0


def compute_stats(root: HtmlElement) -> Stats:
    order = list(root.iter(etree.Element))
    index = {el: i for i, el in enumerate(order)}
    n = len(order)
    text, own, link, punct, end = [0] * n, [0] * n, [0] * n, [0] * n, [0] * n
    parents = [-1] * n
    for i, el in enumerate(order):
        parent = el.getparent()
        parents[i] = index.get(parent, -1) if parent is not None else -1
    for i in range(n - 1, -1, -1):
        el = order[i]
        t = _len(el.text)
        own[i] += t
        text[i] += t
        punct[i] += _punct(el.text)
        if el.tag == "a":
            link[i] = text[i]
        if end[i] == 0:
            end[i] = i + 1
        p = parents[i]
        if p >= 0:
            tail = _len(el.tail)
            own[p] += tail
            text[p] += text[i] + tail
            link[p] += link[i]
            punct[p] += punct[i] + _punct(el.tail)
            end[p] = max(end[p], end[i])
    return Stats(order, index, text, own, link, punct, end)


def inline_text(el: HtmlElement) -> str:
    """All text of a node, whitespace-collapsed."""
    return normalize_ws(" ".join(el.itertext()))


def normalize_ws(text: str) -> str:
    return normalize(text)


@dataclass
class Line:
    """One visual line of text: the text between two block boundaries."""

    text: str
    start: int  # preorder index of the element where the line starts
    link_chars: int = 0
    tags: set[str] = field(default_factory=set)
    block: HtmlElement | None = None


def iter_lines(
    root: HtmlElement,
    stats: Stats,
    skip: Callable[[HtmlElement], bool] | None = None,
    capture: Callable[[HtmlElement], bool] | None = None,
) -> Iterator[Line | HtmlElement]:
    """Flatten a subtree into text lines; elements accepted by ``capture`` (images by default)
    are yielded in place instead of being flattened.

    This walks every element of the page (for the metadata lines) and of the body, so it
    keeps its state in local variables and normalises only lines that hold more than
    whitespace.
    """
    if capture is None:
        capture = _is_img
    index = stats.index
    parts: list[str] = []
    start = -1
    link = 0
    block: HtmlElement | None = None
    tags: set[str] = set()
    link_depth = 0
    skipped_here: set[HtmlElement] = set()

    def flush() -> Line | None:
        nonlocal start, link, tags
        if not parts:
            start, link = -1, 0
            if tags:
                tags = set()
            return None
        text = "".join(parts)
        parts.clear()
        line_start, link_chars = start, link
        start, link = -1, 0
        current_tags, tags = tags, set()
        # Most lines are the whitespace between two block tags: nothing to normalise.
        text = "" if text.isspace() else normalize(text)
        if not text:
            return None
        return Line(text, line_start, link_chars, current_tags, block)

    def add(text: str, el: HtmlElement, in_link: bool) -> None:
        nonlocal start, link, block
        if start < 0 and not text.isspace():
            start = index.get(el, -1)
            block = _block_of(el)
        parts.append(text)
        if in_link:
            link += _len(text)

    walker = etree.iterwalk(root, events=("start", "end"))
    for event, el in walker:
        tag = el.tag
        if not isinstance(tag, str):
            continue
        if event == "start":
            if tag in _LINE_BREAKS:
                line = flush()
                if line is not None:
                    yield line
            if el is not root and skip is not None and skip(el):
                # the end event still comes for a skipped element: mark it
                walker.skip_subtree()
                skipped_here.add(el)
                continue
            if el is not root and capture(el):
                line = flush()
                if line is not None:
                    yield line
                yield el
                walker.skip_subtree()
                skipped_here.add(el)
                continue
            if tag == "a":
                link_depth += 1
            if tag in _MARKED_TAGS:
                tags.add(tag)
            if el.text:
                add(el.text, el, link_depth > 0)
        else:
            if skipped_here and el in skipped_here:
                skipped_here.discard(el)
                skipped = True
            else:
                skipped = el.get(_SKIPPED) is not None
                if skipped:
                    del el.attrib[_SKIPPED]
            if tag == "a" and not skipped:
                link_depth -= 1
            if tag in BLOCK_TAGS:
                line = flush()
                if line is not None:
                    yield line
            if el is not root and el.tail:
                parent = el.getparent()
                add(el.tail, parent if parent is not None else el, link_depth > 0)
    line = flush()
    if line is not None:
        yield line


_LINE_BREAKS = BLOCK_TAGS | {"br", "img"}
_MARKED_TAGS = frozenset({"b", "strong", "h2", "h3", "h4", "h5", "h6", "figcaption"})
_SKIPPED = "data-kz-skipped"
"""An attribute that marked skipped elements before they were kept in a set; a page that
carries it still has those elements' end treated as a skipped one's (and loses the mark)."""


def _is_img(el: HtmlElement) -> bool:
    return el.tag == "img"


def _block_of(el: HtmlElement) -> HtmlElement:
    node: HtmlElement | None = el
    while node is not None and node.tag not in BLOCK_TAGS:
        node = node.getparent()
    return node if node is not None else el


def token_set(el: HtmlElement) -> set[str]:
    """Lower-case tokens of an element's class and id."""
    raw = f"{el.get('class', '')} {el.get('id', '')}"
    if not raw.strip():
        return set()
    raw = re.sub(r"([a-z])([A-Z])", r"\1 \2", raw)
    return {t for t in re.split(r"[^a-zA-Z0-9]+", raw.lower()) if t}


def collapse(text: str) -> str:
    return _WS.sub("", text)
