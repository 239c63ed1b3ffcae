"""What changed between two versions of an article: title and body, paragraph by paragraph.

Chinese has no spaces between words, so changed paragraphs are compared character by
character; paragraphs are matched first so that a paragraph added or removed reads as one.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

Op = Literal["same", "del", "ins"]
RowKind = Literal["same", "changed", "del", "ins"]

MAX_CHAR_DIFF = 4000
"""Paragraphs longer than this are shown as removed and added rather than compared by
character (the character comparison is quadratic in the worst case)."""


@dataclass(frozen=True)
class Piece:
    op: Op
    text: str


@dataclass(frozen=True)
class Row:
    kind: RowKind
    pieces: tuple[Piece, ...]


def diff_text(old: str, new: str) -> tuple[Piece, ...]:
    """Character-level differences between two short texts.

    >>> [(p.op, p.text) for p in diff_text("五市开通城际公交", "五市开通三条城际公交")]
    [('same', '五市开通'), ('ins', '三条'), ('same', '城际公交')]
    """
    if old == new:
        return (Piece("same", old),) if old else ()
    if len(old) > MAX_CHAR_DIFF or len(new) > MAX_CHAR_DIFF:
        return tuple(p for p in (Piece("del", old), Piece("ins", new)) if p.text)
    pieces: list[Piece] = []
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.append(Piece("same", old[i1:i2]))
            continue
        if i2 > i1:
            pieces.append(Piece("del", old[i1:i2]))
        if j2 > j1:
            pieces.append(Piece("ins", new[j1:j2]))
    return tuple(pieces)


def paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def diff_body(old: str, new: str) -> list[Row]:
    """Paragraph rows: kept, changed (with character differences), removed or added.

    >>> [r.kind for r in diff_body("甲段\\n乙段\\n丙段", "甲段\\n乙段改\\n丁段新增\\n丙段")]
    ['same', 'changed', 'ins', 'same']
    """
    a, b = paragraphs(old), paragraphs(new)
    rows: list[Row] = []
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(Row("same", (Piece("same", p),)) for p in a[i1:i2])
            continue
        olds, news = a[i1:i2], b[j1:j2]
        paired = min(len(olds), len(news))
        for before, after in zip(olds[:paired], news[:paired], strict=True):
            rows.append(Row("changed", diff_text(before, after)))
        rows.extend(Row("del", (Piece("del", p),)) for p in olds[paired:])
        rows.extend(Row("ins", (Piece("ins", p),)) for p in news[paired:])
    return rows
