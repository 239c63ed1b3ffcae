"""Article extraction from Chinese news pages: pure functions over bytes.

``extract(body, url, headers)`` decodes the page, finds the body by prose density, and reads the
metadata (title, time, 来源, author, editor, 转自) from the lines around the headline.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime

from kuaizhao.extract import render
from kuaizhao.extract.blocks import Collected, collect
from kuaizhao.extract.body import choose_body
from kuaizhao.extract.html import HtmlElement, Line, Stats, clean, compute_stats, iter_lines, parse
from kuaizhao.extract.meta import (
    HeadInfo,
    MetaFields,
    TitleChoice,
    find_title,
    has_label,
    head_source,
    head_time,
    lead_author,
    read_head,
    read_line,
    standalone_byline,
    tail_author,
    tail_editor,
)
from kuaizhao.extract.pages import pagination
from kuaizhao.extract.types import Article, Block, Image
from kuaizhao.lib.dates import SHANGHAI
from kuaizhao.lib.surt import join_url
from kuaizhao.lib.zh import decode_html

__all__ = ["EXTRACTOR_VERSION", "Article", "Block", "Image", "extract", "merge_pages"]

EXTRACTOR_VERSION = "2"

MIN_ARTICLE_CHARS = 80
REGION_LINES = 12
AFTER_LINES = 10


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _empty(encoding: str, warnings: list[str]) -> Article:
    return Article(
        title="",
        publish_time=None,
        source=None,
        author=None,
        editor=None,
        repost_from=None,
        blocks=(),
        images=(),
        body_text="",
        body_html="",
        summary="",
        category_hint=None,
        next_page_url=None,
        page_number=1,
        is_article=False,
        encoding=encoding,
        provenance={},
        warnings=tuple(warnings),
    )


def extract(
    body: bytes,
    url: str | None = None,
    headers: Mapping[str, str] | None = None,
    *,
    captured_at: datetime | None = None,
) -> Article:
    """Extract one article page. Never raises on malformed input."""
    binary = _binary(body or b"")
    if binary is not None:
        return _empty("binary", [binary])
    text, encoding = decode_html(body or b"", _header(headers, "content-type"))
    warnings: list[str] = []
    root = parse(text)
    if root is None:
        return _empty(encoding, ["empty document"])
    now = captured_at or datetime.now(SHANGHAI)
    if now.tzinfo is None:
        now = now.replace(tzinfo=SHANGHAI)
    head = read_head(root)
    base = _base_url(root, url)
    clean(root)
    stats = compute_stats(root)
    return _Extraction(root, stats, head, base, now, encoding, warnings).run()


# Compressed or binary payloads: extracting from them is meaningless (and a decompression bomb is
# never inflated here: the archive keeps content-encoded bodies as they came).
_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"BZh": "bzip2",
    b"\xfd7zXZ": "xz",
    b"PK\x03\x04": "zip",
    b"\x89PNG": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"GIF8": "GIF",
    b"%PDF": "PDF",
}
_CONTROL = bytes(b for b in range(32) if b not in (0, 9, 10, 12, 13, 27))


def _binary(body: bytes) -> str | None:
    for magic, kind in _MAGIC.items():
        if body.startswith(magic):
            return f"{kind} data, not HTML"
    head = body[:8192]
    if head and len(head) - len(head.translate(None, _CONTROL)) > len(head) * 0.05:
        return "binary data, not HTML"
    return None


def _base_url(root: HtmlElement, url: str | None) -> str | None:
    for el in root.iter("base"):
        href = el.get("href")
        if href:
            return (join_url(url, href) or url) if url else href
    return url


class _Extraction:
    def __init__(
        self,
        root: HtmlElement,
        stats: Stats,
        head: HeadInfo,
        url: str | None,
        now: datetime,
        encoding: str,
        warnings: list[str],
    ) -> None:
        self.root, self.stats, self.head, self.url = root, stats, head, url
        self.now, self.encoding, self.warnings = now, encoding, warnings
        self.provenance: dict[str, str] = {}

    def run(self) -> Article:
        choice = choose_body(self.root, self.stats)
        nodes: list[HtmlElement] = []
        if choice is not None:
            parent = choice.node.getparent()
            wanted = {choice.node, *choice.extra}
            nodes = [c for c in parent if c in wanted] if parent is not None else [choice.node]
        body_start = self.stats.index[nodes[0]] if nodes else None
        body_end = max(self.stats.end[self.stats.index[n]] for n in nodes) if nodes else None
        title = find_title(self.root, self.stats, self.head, body_start)
        self.provenance["title"] = title.where
        collected = collect(nodes, self.stats, self.url, title.text) if nodes else Collected()
        fields = self._metadata(title, collected, body_start, body_end)
        number, next_url = pagination(self.root, self.url)
        blocks = tuple(collected.blocks)
        text = render.body_text(blocks)
        is_article = self._is_article(text, blocks)
        if not is_article:
            self.warnings.append("not an article page")
        if not title.text:
            self.warnings.append("no title")
        if fields.time is None and is_article:
            self.warnings.append("no publish time")
        values = {k: v.value for k, v in fields.values.items()}
        return Article(
            title=title.text,
            publish_time=fields.time,
            source=values.get("source"),
            author=values.get("author"),
            editor=values.get("editor"),
            repost_from=values.get("repost_from"),
            blocks=blocks,
            images=render.images(blocks),
            body_text=text,
            body_html=render.to_html(blocks),
            summary=render.summary(blocks),
            category_hint=values.get("category"),
            next_page_url=next_url,
            page_number=number,
            is_article=is_article,
            encoding=self.encoding,
            provenance=self.provenance,
            warnings=tuple(self.warnings),
        )

    # -- metadata ---------------------------------------------------------------------------

    def _lines(self) -> list[Line]:
        return [item for item in iter_lines(self.root, self.stats) if isinstance(item, Line)]

    def _metadata(
        self,
        title: TitleChoice,
        collected: Collected,
        body_start: int | None,
        body_end: int | None,
    ) -> MetaFields:
        fields = MetaFields()
        lines = self._lines()
        title_i = self.stats.index.get(title.element) if title.element is not None else None
        title_end = self.stats.end[title_i] if title_i is not None else None
        before, around, after = self._regions(lines, title_i, title_end, body_start, body_end)
        far = {"near": False, "labelled_only": True}
        for line in before:
            read_line(line.text, fields, "meta-line", self.now, self.url, near=True)
        for text in collected.meta_lines:
            read_line(text, fields, "body-line", self.now, self.url, near=False)
            fields.put("author", standalone_byline(text), "body byline")
        self._body_bylines(collected.blocks, fields)
        for line in after:
            read_line(line.text, fields, "after-body", self.now, self.url, **far)
        for line in around:
            read_line(line.text, fields, "above-title", self.now, self.url, **far)
        if fields.time is None:
            fields.time, fields.time_where = head_time(self.head, self.now, self.url)
        fields.put("source", head_source(self.head), "meta source")
        loose = fields.values.pop("source_unlabelled", None)
        if loose is not None:
            fields.put("source", loose.value, loose.where)
        fields.put("category", self._category(lines, title_i), "breadcrumb")
        for name, value in fields.values.items():
            self.provenance[name] = value.where
        if fields.time is not None:
            self.provenance["publish_time"] = fields.time_where
        return fields

    def _regions(
        self,
        lines: list[Line],
        title_i: int | None,
        title_end: int | None,
        body_start: int | None,
        body_end: int | None,
    ) -> tuple[list[Line], list[Line], list[Line]]:
        start_limit = body_start if body_start is not None else len(self.stats.order)
        if title_end is not None and title_end <= start_limit:
            before = [ln for ln in lines if title_end <= ln.start < start_limit]
        elif title_end is not None and title_i is not None:
            # the headline sits inside the body node: meta lines follow it directly
            before = [ln for ln in lines if ln.start >= title_end][:4]
        else:
            before = [ln for ln in lines if ln.start < start_limit]
        before = [ln for ln in before[-REGION_LINES:] if not _linky(ln)]
        around: list[Line] = []
        if title_i is not None:
            around = [ln for ln in lines if ln.start < title_i and not _linky(ln)][-3:]
        after: list[Line] = []
        if body_end is not None:
            after = [ln for ln in lines if ln.start >= body_end and not _linky(ln)][:AFTER_LINES]
        return before, around, after

    def _body_bylines(self, blocks: list[Block], fields: MetaFields) -> None:
        paragraphs = [b.text for b in blocks if b.kind == "p"]
        if not paragraphs:
            return
        fields.put("author", lead_author(paragraphs[0]), "lead byline")
        for text in reversed(paragraphs[-3:]):
            fields.put("editor", tail_editor(text), "body end 责编")
        fields.put("author", tail_author(paragraphs[-1]), "body end byline")

    def _category(self, lines: list[Line], title_i: int | None) -> str | None:
        for line in lines:
            if title_i is not None and line.start >= title_i:
                break
            parts = [p.strip() for p in line.text.replace("›", ">").split(">") if p.strip()]
            crumb = len(parts) >= 2 and all(len(p) <= 12 for p in parts)
            if crumb and ("首页" in parts[0] or parts[0] in ("当前位置", "您的位置")):
                return parts[-1] if parts[-1] not in ("正文", "内容") else parts[-2]
        return None

    def _is_article(self, text: str, blocks: tuple[Block, ...]) -> bool:
        chars = len("".join(text.split()))
        if chars < MIN_ARTICLE_CHARS:
            return False
        root_i = 0
        page_text = self.stats.text[root_i] or 1
        density = self.stats.link[root_i] / page_text
        prose = sum(1 for b in blocks if b.kind == "p" and len(b.text) >= 40)
        return not (density > 0.5 and (prose < 3 or chars < page_text * 0.15))


def _linky(line: Line) -> bool:
    if has_label(line.text):
        return False
    length = len("".join(line.text.split()))
    return length > 0 and line.link_chars >= length * 0.6


def merge_pages(pages: Sequence[Article]) -> Article:
    """Join the pages of a multi-page article: page 1's metadata, every page's body in order."""
    if not pages:
        raise ValueError("merge_pages needs at least one page")
    first = pages[0]
    if len(pages) == 1:
        return first
    blocks: list[Block] = []
    for page in pages:
        blocks.extend(page.blocks)
    merged = tuple(blocks)
    warnings: list[str] = []
    for page in pages:
        warnings.extend(w for w in page.warnings if w not in warnings)
    return dataclasses.replace(
        first,
        blocks=merged,
        images=render.images(merged),
        body_text=render.body_text(merged),
        body_html=render.to_html(merged),
        summary=render.summary(merged) or first.summary,
        next_page_url=None,
        page_number=1,
        warnings=tuple(warnings),
    )
