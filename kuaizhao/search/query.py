"""Parse what a reader typed into a search box.

The language:

- words separated by spaces must all occur (AND);
- ``"a quoted phrase"`` must occur as written; where it has spaces between Chinese
  characters, the same phrase without them also counts (Chinese is mostly written without);
- ``A OR B`` (upper-case OR between two terms) wants either;
- ``-word`` or ``-"a phrase"`` excludes articles that contain it;
- filters: ``category:国内`` (name or slug), ``source:人民网`` (any source containing it),
  ``after:2024-01-01`` and ``before:2024-12-31`` (publish date, inclusive).

Anything that is not valid syntax is searched as literal text: an unknown ``foo:bar`` is a
term, a lone ``-`` or ``OR`` is a term, an unbalanced quote runs to the end. Nothing a user
types ever reaches the database as syntax: terms travel as bound parameters or as quoted
FTS strings.

>>> q = parse('山西 "中部 城市群" -太原 category:国内 after:2024-01-01')
>>> q.groups, q.excludes, q.category, q.after
((('山西',), ('中部 城市群', '中部城市群')), ('太原',), '国内', datetime.date(2024, 1, 1))
>>> parse("高铁 OR 动车 开通").groups
(('高铁', '动车'), ('开通',))
>>> parse("  ").empty
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from kuaizhao.lib.outlets import CATEGORIES

MAX_TERMS = 8
MAX_TERM_CHARS = 64
MAX_QUERY_CHARS = 256

_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_FILTER = re.compile(r"(category|source|after|before):(.+)", re.IGNORECASE)
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")
_CATEGORY_BY_SLUG = dict(CATEGORIES)
_CATEGORY_NAMES = {name for _, name in CATEGORIES}


class QueryError(ValueError):
    """The query cannot be searched; the message says why, in words a reader understands."""


@dataclass(frozen=True)
class Query:
    text: str
    groups: tuple[tuple[str, ...], ...] = ()
    """Every group must match; a group matches when any of its terms occurs."""
    excludes: tuple[str, ...] = ()
    category: str | None = None
    source: str | None = None
    after: date | None = None
    before: date | None = None

    @property
    def terms(self) -> tuple[str, ...]:
        """Every positive term, for highlighting and snippets."""
        return tuple(t for group in self.groups for t in group)

    @property
    def empty(self) -> bool:
        """Nothing to search for: no term and no filter."""
        return not self.groups and not self.has_filters

    @property
    def has_filters(self) -> bool:
        return any((self.category, self.source, self.after, self.before))


def normalize(text: str) -> str:
    """Collapse whitespace (full-width spaces too). Characters are kept as typed: the index
    holds the text as published, so folding only the query would lose full-width matches."""
    return " ".join(text.split())


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.replace("/", "-"))
    except ValueError:
        return None


@dataclass
class _Filters:
    category: str | None = None
    source: str | None = None
    after: date | None = None
    before: date | None = None

    def take(self, name: str, value: str) -> bool:
        """Record a filter; False if ``name:value`` is not a valid one (then it is a term)."""
        name = name.lower()
        if name == "category":
            category = _CATEGORY_BY_SLUG.get(value.lower(), value)
            if category not in _CATEGORY_NAMES:
                return False
            self.category = category
            return True
        if name == "source":
            self.source = value[:MAX_TERM_CHARS]
            return True
        parsed = _date(value)
        if parsed is None:
            return False
        setattr(self, name, parsed)
        return True


def _tokens(text: str) -> list[tuple[tuple[str, ...], bool, bool]]:
    """(alternatives, negated, quoted) for each token, in order."""
    tokens: list[tuple[tuple[str, ...], bool, bool]] = []
    for match in _TOKEN.finditer(text):
        if match.group(3) is not None:
            raw = match.group(3)[:MAX_TERM_CHARS]
            negated = raw.startswith("-") and len(raw) > 1
            tokens.append(((raw[1:] if negated else raw,), negated, False))
        elif phrase := match.group(2).strip()[:MAX_TERM_CHARS]:
            spellings = tuple(dict.fromkeys((phrase, _CJK_GAP.sub("", phrase))))
            tokens.append((spellings, bool(match.group(1)), True))
    return tokens


def parse(text: str) -> Query:
    """Parse ``text``; raises QueryError only when it is too long or has too many terms."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"查询过长：最多 {MAX_QUERY_CHARS} 个字符")
    cleaned = normalize(text.replace("\x00", " "))
    groups: list[list[str]] = []
    excludes: list[str] = []
    filters = _Filters()
    join_next = False
    for spellings, negated, quoted in _tokens(cleaned):
        if not quoted and not negated:
            word = spellings[0]
            if word == "OR" and groups and not join_next:
                join_next = True
                continue
            match = _FILTER.fullmatch(word)
            if match and filters.take(match.group(1), match.group(2)):
                continue
        if negated:
            excludes.extend(spellings)
        elif join_next:
            groups[-1].extend(spellings)
        else:
            groups.append(list(spellings))
        join_next = False
    if join_next:  # a trailing OR is a word like any other
        groups.append(["OR"])
    unique = list(dict.fromkeys(tuple(dict.fromkeys(g)) for g in groups))
    if sum(len(g) for g in unique) + len(excludes) > MAX_TERMS:
        raise QueryError(f"关键词过多：最多 {MAX_TERMS} 个")
    return Query(
        cleaned,
        tuple(unique),
        tuple(dict.fromkeys(excludes)),
        category=filters.category,
        source=filters.source,
        after=filters.after,
        before=filters.before,
    )
