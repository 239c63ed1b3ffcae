"""Parse what a reader typed into a search box.

Words separated by spaces must all occur (AND). Quotes group words into one phrase.
Nothing a user types is ever passed to the database as syntax: terms travel as bound
parameters or as quoted FTS strings.

>>> parse('山西 "中部 城市群"').terms
('山西', '中部 城市群')
>>> parse("  ").terms
()
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_TERMS = 8
MAX_TERM_CHARS = 64
MAX_QUERY_CHARS = 256

_TOKEN = re.compile(r'"([^"]*)"|(\S+)')


class QueryError(ValueError):
    """The query cannot be searched; the message says why, in words a reader understands."""


@dataclass(frozen=True)
class Query:
    text: str
    terms: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.terms


def normalize(text: str) -> str:
    """Fold full-width forms to half-width and collapse whitespace (NFKC)."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def parse(text: str) -> Query:
    """Split ``text`` into AND-ed terms; quoted runs stay together as phrases."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"查询过长：最多 {MAX_QUERY_CHARS} 个字符")
    cleaned = normalize(text).replace("\x00", "")
    terms: list[str] = []
    for match in _TOKEN.finditer(cleaned):
        term = (match.group(1) if match.group(1) is not None else match.group(2)).strip()
        term = term.strip('"')
        if term and term not in terms:
            terms.append(term[:MAX_TERM_CHARS])
    if len(terms) > MAX_TERMS:
        raise QueryError(f"关键词过多：最多 {MAX_TERMS} 个")
    return Query(cleaned, tuple(terms))
