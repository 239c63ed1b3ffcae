"""Search on PostgreSQL (psycopg 3): ``search_doc`` holds the folded title and body, a
trigram (pg_trgm) GIN index over them answers terms of three or more characters with LIKE,
a GIN index over each text's distinct characters and character pairs (``search_grams``)
answers one- and two-character terms, and a jieba-word tsvector, built here with positions
that leave a gap nowhere and keep punctuation as words, ranks (title words weight A, body D).

The results are those of the SQLite backend: the same folding, the same substring semantics,
the same candidate window and ranking rule (kuaizhao.search.engine); only the text score
comes from ``ts_rank`` plus a bonus for a term in the title.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg

from kuaizhao.search import engine
from kuaizhao.search.base import Order, Page
from kuaizhao.search.document import SEAM, SPACE, Doc, clean, day_end, day_start, epoch, words
from kuaizhao.search.query import Query
from kuaizhao.search.schema import TEXT

MAX_POSITION = 16383
MAX_LEXEME_CHARS = 200
RANK_WEIGHT = 100.0
"""ts_rank gives about 0.1 for a title word, 0.01 for a body word: scaled to the SQLite
backend's scores (10 for a title hit)."""
SLICE = 20_000
"""Ids in the first slice searched for the newest matches (see ``_newest``)."""
TITLE_BONUS = 5.0
"""For a term found in the title but not as a word (山西 inside 山西中部城市群)."""


def like(term: str) -> str:
    r"""A LIKE pattern (escape ``!``) matching ``term`` anywhere.

    >>> like("50%_!")
    '%50!%!_!!%'
    """
    return "%" + term.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector(title: str, body: str) -> str:
    """The words of folded ``title`` (weight A) and ``body`` as a tsvector literal. Spaces
    take a position without a lexeme, so a phrase never jumps over one."""
    parts: list[str] = []
    position = 0
    for weight, text in (("A", title), ("", body)):
        for word in [*words(text), SEAM]:
            position += 1
            if position > MAX_POSITION:
                break
            if word == SEAM or word.strip(SPACE) == "" or len(word) > MAX_LEXEME_CHARS:
                continue
            parts.append(f"{_lexeme(word)}:{position}{weight}")
    return " ".join(parts)


def tsquery(terms: Iterable[str]) -> str:
    """Each folded term as a phrase of its words, or'ed."""
    phrases = []
    for term in terms:
        lexemes = [_lexeme(w) for w in words(term) if w.strip(SPACE) and len(w) <= 200]
        if lexemes:
            phrases.append("(" + " <-> ".join(lexemes) + ")")
    return " | ".join(phrases)


class PostgresSearch:
    """The scale-out backend over ``search_doc`` and the article table."""

    def __init__(self, conn: psycopg.Connection[Any], articles: str = "archive_article") -> None:
        self.conn = conn
        self.articles = articles

    # -- indexing ------------------------------------------------------------------------------
    def index(self, docs: Iterable[Doc]) -> int:
        """Add (or replace) articles in the index; returns how many. The caller commits."""
        rows = []
        for doc in docs:
            title, body = clean(doc.title), clean(doc.body)
            rows.append(
                (
                    doc.id,
                    epoch(doc.published_at),
                    doc.category,
                    clean(doc.source),
                    doc.story,
                    title,
                    body,
                    tsvector(title, body),
                )
            )
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO search_doc "
                "(id, published, category, source, story, title, body, words) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s::tsvector) ON CONFLICT (id) DO UPDATE "
                "SET published = excluded.published, category = excluded.category, "
                "source = excluded.source, story = excluded.story, title = excluded.title, "
                "body = excluded.body, words = excluded.words",
                rows,
            )
        return len(rows)

    def remove(self, ids: Iterable[int]) -> None:
        self.conn.execute("DELETE FROM search_doc WHERE id = ANY(%s)", (list(ids),))

    def set_story(self, ids: Iterable[int], story: int) -> None:
        """Put indexed articles into ``story`` (stories merge as copies are found)."""
        self.conn.execute("UPDATE search_doc SET story = %s WHERE id = ANY(%s)", (story, list(ids)))

    def clear(self) -> None:
        self.conn.execute("DELETE FROM search_doc")

    def optimize(self) -> None:
        self.conn.execute("ANALYZE search_doc")

    # -- searching -----------------------------------------------------------------------------
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
        page, per_page = engine.check_paging(page, per_page)
        plan = engine.plan(query)
        if not plan.groups and not query.has_filters:
            return Page(0, [], page, per_page, query.terms)
        clauses, params = self._where(plan, query, category, exclude_ids)
        where = " AND ".join(clauses) or "TRUE"
        limit = engine.window(page, per_page)
        if plan.groups:
            rows = self._newest(where, params, limit)
        else:
            rows = self.conn.execute(
                f"SELECT d.id, d.published, d.story FROM search_doc d WHERE {where} "
                "ORDER BY d.published DESC NULLS LAST, d.id DESC LIMIT %s",
                [*params, limit],
                prepare=False,
            ).fetchall()
        scores = self._scores(plan, [r[0] for r in rows]) if plan.groups else {}
        candidates = [engine.Candidate(r[0], scores.get(r[0], 0.0), r[1], r[2]) for r in rows]
        complete = len(candidates) < limit
        if complete:
            total = engine.stories(candidates)
        elif plan.groups:
            first, newest = self.conn.execute(
                "SELECT min(id), max(id) FROM search_doc"
            ).fetchone() or (0, 0)
            found = engine.stories(candidates)
            total = engine.estimate(found, newest, candidates[-1].id, first)
        else:
            row = self.conn.execute(
                f"SELECT count(DISTINCT coalesce(d.story, d.id)) FROM search_doc d WHERE {where}",
                params,
            )
            total, complete = (row.fetchone() or (0,))[0], True
        return engine.page_of(
            query,
            candidates,
            complete=complete,
            total=total,
            page=page,
            per_page=per_page,
            order=order,
            originals=self._originals,
        )

    def _newest(
        self, where: str, params: list[Any], limit: int
    ) -> list[tuple[int, int | None, int | None]]:
        """The newest ``limit`` matches, looked for in id slices growing fourfold from the newest.

        A GIN bitmap has no order: asked for the newest 1,000 of 20,000 matches, PostgreSQL
        would fetch and recheck all 20,000 rows. Slicing by id (a btree range ANDed with the
        bitmap) stops as soon as enough matches are found, like FTS5's rowid order does.
        """
        first, newest = self.conn.execute("SELECT min(id), max(id) FROM search_doc").fetchone() or (
            None,
            None,
        )
        if first is None or newest is None:
            return []
        rows: list[tuple[int, int | None, int | None]] = []
        high, width = newest, SLICE
        # Never prepared (psycopg prepares a query run five times): a generic plan cannot see
        # how selective the terms, category and dates are, and chose a plan 20-100 times
        # slower for a filtered common word (the benchmark's "filtered" p95 was 0.9 s).
        # pg_trgm cannot estimate how rare a Chinese phrase is; given ORDER BY id and LIMIT the
        # planner then walks the primary key and rechecks LIKE on every row. Bitmap scans only.
        # The costly search_grams() makes plan costs huge, which would start JIT compilation
        # (100 ms and more) for a query that runs in milliseconds.
        previous = self.conn.execute(
            "SELECT current_setting('enable_indexscan'), current_setting('jit')"
        ).fetchone()
        self.conn.execute(
            "SELECT set_config('enable_indexscan', 'off', false), set_config('jit', 'off', false)"
        )
        try:
            while high >= first and len(rows) < limit:
                low = max(first, high - width + 1)
                rows.extend(
                    self.conn.execute(
                        f"SELECT d.id, d.published, d.story FROM search_doc d WHERE {where} "
                        "AND d.id BETWEEN %s AND %s ORDER BY d.id DESC LIMIT %s",
                        [*params, low, high, limit - len(rows)],
                        prepare=False,
                    ).fetchall()
                )
                high, width = low - 1, width * 4
        finally:
            index_scan, jit = previous if previous else ("on", "on")
            self.conn.execute(
                "SELECT set_config('enable_indexscan', %s, false), set_config('jit', %s, false)",
                [index_scan, jit],
            )
        return rows

    def _where(
        self,
        plan: engine.Plan,
        query: Query,
        category: str | None,
        exclude_ids: tuple[int, ...],
    ) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        # Short terms use the pairs index only when nothing longer narrows the rows first;
        # otherwise a LIKE on the few rows the trigram index returned is cheaper.
        any_long = any(len(t) >= 3 for g in plan.groups for t in g)
        for group in plan.groups:
            parts = []
            for term in group:
                if len(term) >= 3 or any_long:
                    parts.append(f"{TEXT} LIKE %s ESCAPE '!'")
                    params.append(like(term))
                else:
                    # Exact without a recheck; search_grams() is declared costly, so the
                    # planner takes the index rather than computing it row by row.
                    parts.append(f"search_grams({TEXT}) @> ARRAY[%s]::text[]")
                    params.append(term)
            clauses.append("(" + " OR ".join(parts) + ")")
        for term in plan.excludes:
            clauses.append(f"{TEXT} NOT LIKE %s ESCAPE '!'")
            params.append(like(term))
        if category := query.category or category:
            clauses.append("d.category = %s")
            params.append(category)
        if query.source and (source := clean(query.source)):
            clauses.append("d.source LIKE %s ESCAPE '!'")
            params.append(like(source))
        if query.after:
            clauses.append("d.published >= %s")
            params.append(day_start(query.after))
        if query.before:
            clauses.append("d.published < %s")
            params.append(day_end(query.before))
        if exclude_ids:
            clauses.append("NOT (d.id = ANY(%s))")
            params.append(list(exclude_ids))
        return clauses, params

    def _scores(self, plan: engine.Plan, ids: list[int]) -> dict[int, float]:
        if not ids:
            return {}
        text = tsquery(plan.terms)
        in_title = " OR ".join(["d.title LIKE %s ESCAPE '!'"] * len(plan.terms))
        rank = f"ts_rank(d.words, %s::tsquery) * {RANK_WEIGHT}" if text else "0"
        rank_params = [text] if text else []
        rows = self.conn.execute(
            f"SELECT d.id, {rank} + CASE WHEN {in_title} THEN {TITLE_BONUS} ELSE 0 END "
            "FROM search_doc d WHERE d.id = ANY(%s)",
            [*rank_params, *(like(t) for t in plan.terms), ids],
        ).fetchall()
        return {r[0]: float(r[1]) for r in rows}

    def _originals(self, ids: list[int]) -> dict[int, tuple[str, str]]:
        if not ids:
            return {}
        rows = self.conn.execute(
            f"SELECT id, title, body_text FROM {self.articles} WHERE id = ANY(%s)", (ids,)
        ).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}
