"""Keyword-in-context snippets like the seed's related list: about 100 characters around
the first hit, ``...`` where the text was cut, preferring to start after a sentence end.

>>> snippet("第一句。山西中部城市群高质量发展大会举行。", ["城市群"], width=12)
'...山西中部城市群高质量发展...'
"""

from __future__ import annotations

from kuaizhao.search.fold import fold, fold_chars

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
    """(start, end) of the earliest occurrence of any term, or (-1, -1). Both sides are
    folded (kuaizhao.search.fold), which keeps offsets, so 國際 finds 国际 here too."""
    folded = fold_chars(text)
    best = (-1, -1)
    for term in terms:
        needle = fold(term)
        pos = folded.find(needle) if needle else -1
        if pos >= 0 and (best[0] < 0 or pos < best[0]):
            best = (pos, pos + len(needle))
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
