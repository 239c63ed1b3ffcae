"""Blocks -> sanitised HTML, plain text, summary, image list."""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

import nh3

from kuaizhao.extract.types import Block, Image

ALLOWED_TAGS = {
    "p",
    "h2",
    "h3",
    "h4",
    "figure",
    "img",
    "figcaption",
    "table",
    "tbody",
    "tr",
    "td",
}
ALLOWED_ATTRIBUTES = {"img": {"src", "alt"}}
SUMMARY_LIMIT = 120
_SENTENCE = re.compile(r".+?(?:[。！？!?]”?|$)", re.S)


def body_text(blocks: Sequence[Block]) -> str:
    return "\n".join(b.text for b in blocks if b.text)


def images(blocks: Sequence[Block]) -> tuple[Image, ...]:
    out: list[Image] = []
    for i, block in enumerate(blocks):
        if block.kind != "img" or not block.src:
            continue
        caption = None
        if i + 1 < len(blocks) and blocks[i + 1].kind == "caption":
            caption = blocks[i + 1].text
        out.append(Image(block.src, caption, block.alt or None))
    return tuple(out)


def summary(blocks: Sequence[Block]) -> str:
    for block in blocks:
        if block.kind == "p" and block.text:
            m = _SENTENCE.match(block.text)
            sentence = m.group(0) if m else block.text
            return sentence[:SUMMARY_LIMIT]
    return ""


def _table(text: str) -> str:
    rows = []
    for line in text.split("\n"):
        cells = "".join(f"<td>{escape(c)}</td>" for c in line.split("\t"))
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><tbody>{''.join(rows)}</tbody></table>"


def to_html(blocks: Sequence[Block]) -> str:
    parts: list[str] = []
    i = 0
    while i < len(blocks):
        block = blocks[i]
        if block.kind == "img" and block.src:
            caption = ""
            if i + 1 < len(blocks) and blocks[i + 1].kind == "caption":
                caption = f"<figcaption>{escape(blocks[i + 1].text)}</figcaption>"
                i += 1
            alt = escape(block.alt or "")
            parts.append(f'<figure><img src="{escape(block.src)}" alt="{alt}">{caption}</figure>')
        elif block.kind == "caption":
            parts.append(f"<figure><figcaption>{escape(block.text)}</figcaption></figure>")
        elif block.kind == "h":
            parts.append(f"<h3>{escape(block.text)}</h3>")
        elif block.kind == "table":
            parts.append(_table(block.text))
        elif block.text:
            parts.append(f"<p>{escape(block.text)}</p>")
        i += 1
    return sanitize("\n".join(parts))


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel=None,
        strip_comments=True,
    )
