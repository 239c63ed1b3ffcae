"""What the index holds for one article, computed in Python at ingest so both backends index
exactly the same folded text.

The SQLite index is two FTS5 tables whose columns hold *token streams* made here:

- ``search_fts`` ``title``/``body``: the overlapping character trigrams of the folded text, one
  beginning at every character (``山西中部`` -> ``山西中 西中部 中部␃ 部␃``: the end marker
  gives the last two characters a token to begin). A term of three or more characters is the
  phrase of its trigrams, and a phrase of overlapping trigrams at consecutive positions is
  exactly a substring; a term of one or two characters is a prefix query (every occurrence of
  it begins exactly one token), answered by the table's one- and two-character prefix
  indexes. Punctuation and spaces are characters like any other, so a phrase never matches
  across ``。`` unless the query has it: the "phrase trap" cannot happen.
- ``search_words`` ``words``: the jieba words of the folded title and body, with every
  character kept (the punctuation is a token, the title/body seam is a token), only for
  ranking: a term that is a whole word scores above one found inside a longer word. A run of
  whole words is itself a substring, so this table never finds an article the trigrams would
  not.
"""

from __future__ import annotations

import re
import time as _time
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import rjieba

from kuaizhao.search.fold import fold, preimages

SPACE = "\ue000"
"""Stands for a space inside a token (a space separates tokens)."""
END = "\ue001"
"""Ends every text, so its last two characters begin a token like the others."""
SEAM = "\ue002"
"""The word between title and body in the words stream: no phrase crosses it."""
PRIVATE = str.maketrans({SPACE: " ", END: " ", SEAM: " "})
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Doc:
    """One article as the search index sees it (the catalogue row's id and fields)."""

    id: int
    title: str
    body: str
    published_at: datetime | None = None
    category: str = ""
    source: str = ""
    story: int | None = None
    """The story the article belongs to (the id of its original); None: a story of its own."""


def clean(text: str) -> str:
    """Folded text without the private characters the token streams use."""
    return fold(text.translate(PRIVATE))


def trigrams(folded: str) -> list[str]:
    """The tokens of already folded text, spaces encoded: the trigram beginning at each
    character (the last two are cut short by the end marker)."""
    text = folded.replace(" ", SPACE) + END
    return [text[i : i + 3] for i in range(len(folded))]


def trigram_stream(folded: str) -> str:
    return " ".join(trigrams(folded))


def phrase(term: str) -> list[str]:
    """The trigrams a folded term of three or more characters is the phrase of.

    >>> phrase("山西中部")
    ['山西中', '西中部']
    """
    text = term.replace(" ", SPACE)
    return [text[i : i + 3] for i in range(len(text) - 2)]


def words(folded: str) -> list[str]:
    """jieba words of folded text; every character lands in some word, spaces included."""
    return [w.replace(" ", SPACE) for w in rjieba.cut(folded) if w]


def word_stream(title: str, body: str) -> str:
    return " ".join([*words(title), SEAM, *words(body)])


# -- whole words from the text itself ----------------------------------------------------------
#
# jieba cuts text into blocks (runs of CJK ideographs, ASCII letters and digits, ``+#&._%-``)
# and segments each block on its own; every other character is a word by itself. So whether
# a term occurs as a run of whole words at some place depends only on the blocks around that
# place: these functions segment those, not the whole article, and give what a lookup of
# ``words(term)`` in the ``word_stream`` gives.

BREAKS = frozenset(
    " \t\n\r\f\v\u3000"
    + SPACE
    + END
    + SEAM
    + "。，、；：？！“”‘’（）《》〈〉【】〔〕「」『』…—～·"
    + ",;:?!()[]{}<>\"'/|"
)
"""Characters that never belong to a jieba block: a window of text between two of them is
segmented as it is inside the whole text."""
REACH = 200
"""How far a window may extend either way before the whole text is segmented instead."""
_BREAK = re.compile("[" + re.escape("".join(sorted(BREAKS))) + "]")
_LAST_BREAK = re.compile("(?s).*" + _BREAK.pattern)


@lru_cache(maxsize=4096)
def _window_words(window: str) -> list[str]:
    """``words(clean(window))``, remembered: copies of a story repeat the same windows."""
    return words(clean(window))


def unfolded_pattern(term: str) -> re.Pattern[str]:
    """A pattern for the places of unfolded text whose ``clean()`` is ``term`` (folded,
    spaces standing for any whitespace)."""
    wanted = preimages()
    parts = []
    for char in term:
        if char == " ":
            parts.append(r"[\s\ue000-\ue002]+")
        elif others := wanted.get(char):
            parts.append("[" + re.escape(char + others) + "]")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts))


def _aligned(segments: list[str], offset: int, run: list[str]) -> bool:
    """True when a segment begins at character ``offset`` and ``run`` follows from there."""
    at = 0
    for i, segment in enumerate(segments):
        if at == offset:
            return segments[i : i + len(run)] == run
        if at > offset:
            return False
        at += len(segment)
    return False


def whole_words_in(text: str, run: list[str], pattern: re.Pattern[str]) -> bool:
    """True when folded ``text`` (unfolded: ``pattern`` is :func:`unfolded_pattern` of the
    term) holds the term as the run of whole words ``run`` (``words(term)``), as
    ``words(clean(text))`` would show."""
    match = pattern.search(text)
    while match is not None:
        start, end = match.span()
        before = _LAST_BREAK.match(text, max(0, start - REACH), start)
        after = _BREAK.search(text, end, end + REACH)
        left = before.end() if before else 0
        right = after.start() if after else len(text)
        if start - left >= REACH or right - end >= REACH:  # no break near: the whole text
            segments = words(clean(text))
            return any(segments[i : i + len(run)] == run for i in range(len(segments)))
        if _aligned(_window_words(text[left:right]), start - left, run):
            return True
        match = pattern.search(text, start + 1)  # occurrences may overlap (哈哈 in 哈哈哈)
    return False


def epoch(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def day_start(day: date) -> int:
    """Midnight of ``day`` in Asia/Shanghai (the archive's calendar), as epoch seconds."""
    return int(datetime.combine(day, time(), SHANGHAI).timestamp())


def day_end(day: date) -> int:
    if day == date.max:  # no next day to start; the calendar has no DST change there
        return day_start(day) + 86400
    return day_start(day + timedelta(days=1))


def now() -> int:
    return int(_time.time())
