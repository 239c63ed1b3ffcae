"""Keyword-in-context snippets like the seed's related list: about 100 characters around
the first hit, ``...`` where the text was cut, preferring to start after a sentence end.

>>> snippet("第一句。山西中部城市群高质量发展大会举行。", ["城市群"], width=12)
'...山西中部城市群高质量发展...'
"""

from __future__ import annotations

from kuaizhao.search.document import unfolded_pattern
from kuaizhao.search.fold import fold

_SENTENCE_ENDS = "。！？；!?;\n"
ELLIPSIS = "..."


def first_sentence(text: str, width: int = 80) -> str:
    """The first sentence of ``text`` (its end mark kept), cut to about ``width`` characters.

    >>> first_sentence("山西中部城市群建设提速。五市协同推进。")
    '山西中部城市群建设提速。'
    >>> first_sentence("没有句号的一段很长的文字" * 10, width=12)
    '没有句号的一段很长的文字...'
    """
    text = " ".join(text.split())
    for i, char in enumerate(text[: width + 1]):
        if char in _SENTENCE_ENDS:
            return text[: i + 1].rstrip()
    return text[:width] + (ELLIPSIS if len(text) > width else "")


def first_hit(text: str, terms: list[str] | tuple[str, ...]) -> tuple[int, int]:
    """(start, end) of the earliest occurrence of any term, or (-1, -1). The terms are folded
    and found in the unfolded text by what folds to them (kuaizhao.search.fold), so 國際
    finds 国际 here too, without folding the whole text."""
    best = (-1, -1)
    for term in terms:
        needle = fold(term)
        found = unfolded_pattern(needle).search(text) if needle else None
        if found and (best[0] < 0 or found.start() < best[0]):
            best = found.span()
    return best


def snippet(text: str, terms: list[str] | tuple[str, ...], width: int = 100) -> str:
    """About ``width`` characters of ``text`` around the first term found."""
    text = " ".join(text.split())
    start, end = first_hit(text, terms)
    if start < 0:
        cut = text[:width]
        return cut + (ELLIPSIS if len(text) > width else "")
    lead = max(0, start - width // 3)
    # Prefer to begin just after a sentence end that lies before the hit.
    for i in range(start - 1, lead - 1, -1):
        if text[i] in _SENTENCE_ENDS:
            lead = i + 1
            break
    tail = min(len(text), max(end, lead + width))
    return (ELLIPSIS if lead > 0 else "") + text[lead:tail] + (ELLIPSIS if tail < len(text) else "")
