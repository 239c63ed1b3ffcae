"""Search on SQLite FTS5 with the trigram tokenizer.

Terms of three or more characters go through the FTS index as quoted strings; shorter
terms (one or two Chinese characters) are checked with LIKE on the rows the index
returned, or by a scan when the query has no long term at all. Either way a term that
occurs verbatim in a title or body is found.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kuaizhao.search.base import Hit, Order, Page
from kuaizhao.search.query import Query
from kuaizhao.search.snippets import snippet

TRIGRAM = 3
SHANGHAI = ZoneInfo("Asia/Shanghai")
TITLE_WEIGHT = 10.0
BODY_WEIGHT = 1.0


def fts_string(term: str) -> str:
    """``term`` as an FTS5 string literal: it can only ever match as a phrase.

    >>> fts_string('a"b OR c')
    '"a""b OR c"'
    """
    return '"' + term.replace('"', '""') + '"'


def like_pattern(term: str) -> str:
    r"""``term`` as a LIKE pattern that matches it anywhere, wildcards escaped.

    >>> like_pattern("50%_")
    '%50\\%\\_%'
    """
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _parse_time(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    # Django keeps aware datetimes in SQLite as naive UTC text.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _utc_text(day: date) -> str:
    """Midnight of ``day`` in Asia/Shanghai as Django stores datetimes in SQLite (UTC text)."""
    moment = datetime.combine(day, time(), SHANGHAI).astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _contains(term: str) -> tuple[str, list[str]]:
    """A clause true when ``term`` occurs in the title or body."""
    pattern = like_pattern(term)
    return "(a.title LIKE ? ESCAPE '\\' OR a.body_text LIKE ? ESCAPE '\\')", [pattern, pattern]


class _Where:
    """The WHERE clause of one search, built up with bound parameters only."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.params: list[Any] = []

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def sql(self) -> str:
        return " AND ".join(self.clauses) or "1"


def _build(query: Query, category: str | None, exclude_ids: tuple[int, ...]) -> tuple[bool, _Where]:
    """(whether the FTS index is used, the WHERE clause)."""
    where = _Where()
    indexed = [g for g in query.groups if all(len(t) >= TRIGRAM for t in g)]
    if indexed:
        match = " AND ".join("(" + " OR ".join(map(fts_string, g)) + ")" for g in indexed)
        where.add("archive_article_fts MATCH ?", match)
    for group in query.groups:
        if group not in indexed:
            parts = [_contains(t) for t in group]
            where.add(
                "(" + " OR ".join(c for c, _ in parts) + ")", *[p for _, ps in parts for p in ps]
            )
    for term in query.excludes:
        clause, params = _contains(term)
        where.add(f"NOT {clause}", *params)
    if category := query.category or category:
        where.add("a.category = ?", category)
    if query.source:
        where.add("a.source LIKE ? ESCAPE '\\'", like_pattern(query.source))
    if query.after:
        where.add("a.published_at >= ?", _utc_text(query.after))
    if query.before:
        where.add("a.published_at < ?", _utc_text(query.before + timedelta(days=1)))
    if exclude_ids:
        where.add(f"a.id NOT IN ({','.join('?' * len(exclude_ids))})", *exclude_ids)
    return bool(indexed), where


class SqliteFts5Search:
    """The default backend: the ``archive_article_fts`` table beside ``archive_article``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def search(
        self,
        query: Query,
        *,
        category: str | None = None,
        exclude_ids: tuple[int, ...] = (),
        page: int = 1,
        per_page: int = 20,
        order: Order = "relevance",
    ) -> Page:
        if query.empty:
            return Page(0, [], page, per_page, query.terms)
        indexed, where = _build(query, category, exclude_ids)
        if indexed:
            source = "archive_article_fts f JOIN archive_article a ON a.id = f.rowid"
            rank = f"bm25(archive_article_fts, {TITLE_WEIGHT}, {BODY_WEIGHT})"
        else:
            source, rank = "archive_article a", "0.0"
        order_by = "a.published_at DESC" if order == "time" else "rank, a.published_at DESC"
        total = self.conn.execute(
            f"SELECT count(*) FROM {source} WHERE {where.sql()}", where.params
        ).fetchone()[0]
        rows = self.conn.execute(
            f"SELECT a.id, a.title, a.body_text, a.published_at, {rank} AS rank "
            f"FROM {source} WHERE {where.sql()} ORDER BY {order_by} LIMIT ? OFFSET ?",
            [*where.params, per_page, (page - 1) * per_page],
        ).fetchall()
        hits = [
            Hit(row[0], row[1], snippet(row[2], query.terms), _parse_time(row[3]), -row[4])
            for row in rows
        ]
        return Page(total, hits, page, per_page, query.terms)
