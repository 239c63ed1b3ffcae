"""Search on SQLite FTS5 with the trigram tokenizer.

Terms of three or more characters go through the FTS index as quoted strings; shorter
terms (one or two Chinese characters) are checked with LIKE on the rows the index
returned, or by a scan when the query has no long term at all. Either way a term that
occurs verbatim in a title or body is found.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from kuaizhao.search.base import Hit, Order, Page
from kuaizhao.search.query import Query
from kuaizhao.search.snippets import snippet

TRIGRAM = 3
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
        long_terms = [t for t in query.terms if len(t) >= TRIGRAM]
        where, params = self._filters(query, long_terms, category, exclude_ids)
        if long_terms:
            source = "archive_article_fts f JOIN archive_article a ON a.id = f.rowid"
            rank = f"bm25(archive_article_fts, {TITLE_WEIGHT}, {BODY_WEIGHT})"
        else:
            source, rank = "archive_article a", "0.0"
        order_by = "a.published_at DESC" if order == "time" else "rank, a.published_at DESC"
        total = self.conn.execute(
            f"SELECT count(*) FROM {source} WHERE {where}", params
        ).fetchone()[0]
        rows = self.conn.execute(
            f"SELECT a.id, a.title, a.body_text, a.published_at, {rank} AS rank "
            f"FROM {source} WHERE {where} ORDER BY {order_by} LIMIT ? OFFSET ?",
            [*params, per_page, (page - 1) * per_page],
        ).fetchall()
        hits = [
            Hit(row[0], row[1], snippet(row[2], query.terms), _parse_time(row[3]), -row[4])
            for row in rows
        ]
        return Page(total, hits, page, per_page, query.terms)

    @staticmethod
    def _filters(
        query: Query, long_terms: list[str], category: str | None, exclude_ids: tuple[int, ...]
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if long_terms:
            clauses.append("archive_article_fts MATCH ?")
            params.append(" ".join(fts_string(t) for t in long_terms))
        for term in query.terms:
            if len(term) < TRIGRAM:
                clauses.append("(a.title LIKE ? ESCAPE '\\' OR a.body_text LIKE ? ESCAPE '\\')")
                params += [like_pattern(term)] * 2
        if category:
            clauses.append("a.category = ?")
            params.append(category)
        if exclude_ids:
            clauses.append(f"a.id NOT IN ({','.join('?' * len(exclude_ids))})")
            params += list(exclude_ids)
        return " AND ".join(clauses), params
