"""Search on PostgreSQL (psycopg 3): ``search_doc`` holds the folded title and body, their
distinct characters and character pairs as ``bigint`` keys plus a key for the article's block
of ids (``grams``, computed here, under one GIN index: a one- or two-character term is exactly
one key, a longer term is found by its pairs and checked with ``strpos``), and a jieba-word
tsvector, built here with positions that leave a gap nowhere and keep punctuation as words,
which ranks (title words weight A, body D).

The results are those of the SQLite backend: the same folding, the same substring semantics,
the same candidate window and ranking rule (kuaizhao.search.engine); only the text score
comes from ``ts_rank`` plus a bonus for a term in the title.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import pairwise
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
BLOCK_BITS = 14
"""Ids ``n << 14`` to ``(n + 1 << 14) - 1`` make block ``n``; its key is ``-n - 1``."""
SLICE_BLOCKS = 2
"""Blocks in the first slice searched for the newest matches (see ``_newest``)."""
TITLE_BONUS = 5.0
"""For a term found in the title but not as a word (山西 inside 山西中部城市群)."""
CODE_BITS = 21
"""Every code point is below 2**21: a character is its code point, a pair of characters
``first << 21 | second`` (at least 2**21, below 2**42), so keys are exact and never collide."""


def text_of(title: str, body: str) -> str:
    """Folded title and body as one text, as ``schema.TEXT`` joins them in SQL."""
    return title + "\n" + body


def grams(text: str) -> list[int]:
    """The keys of folded ``text``: each distinct character and pair of adjacent characters.

    >>> grams("山西山")
    [23665, 35199, 49629137279, 73817676913]
    """
    codes = [ord(c) for c in text]
    keys = set(codes)
    keys.update(a << CODE_BITS | b for a, b in pairwise(codes))
    return sorted(keys)


def block(id_: int) -> int:
    """The key of the block of ids holding ``id_`` (negative: no character key is)."""
    return -(id_ >> BLOCK_BITS) - 1


def keys(id_: int, title: str, body: str) -> list[int]:
    """What ``search_doc.grams`` holds for an article: its block, the grams of its text."""
    return [block(id_), *grams(text_of(title, body))]


def term_grams(term: str) -> list[int]:
    """The keys every text holding folded ``term`` has: exactly the term's own key when it
    has one or two characters; its pairs (a necessary condition only) when longer."""
    if len(term) == 1:
        return [ord(term)]
    return [k for k in grams(term) if k >> CODE_BITS]


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
        count = 0

        def rows() -> Iterator[tuple[Any, ...]]:
            # A generator: psycopg sends each row as it comes, so the server stores one while
            # the next is computed here (17% faster than computing the batch first).
            nonlocal count
            for doc in docs:
                title, body = clean(doc.title), clean(doc.body)
                count += 1
                yield (
                    doc.id,
                    epoch(doc.published_at),
                    doc.category,
                    clean(doc.source),
                    doc.story,
                    title,
                    body,
                    tsvector(title, body),
                    keys(doc.id, title, body),
                )

        # The keys go in binary (%b): parsing some 1,500 numbers of text cost as much as
        # the rest of the row.
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO search_doc "
                "(id, published, category, source, story, title, body, words, grams) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s::tsvector, %b::bigint[]) "
                "ON CONFLICT (id) DO UPDATE "
                "SET published = excluded.published, category = excluded.category, "
                "source = excluded.source, story = excluded.story, title = excluded.title, "
                "body = excluded.body, words = excluded.words, grams = excluded.grams",
                rows(),
            )
        return count

    def remove(self, ids: Iterable[int]) -> None:
        self.conn.execute("DELETE FROM search_doc WHERE id = ANY(%s)", (list(ids),))

    def set_story(self, ids: Iterable[int], story: int) -> None:
        """Put indexed articles into ``story`` (stories merge as copies are found)."""
        self.conn.execute("UPDATE search_doc SET story = %s WHERE id = ANY(%s)", (story, list(ids)))

    def clear(self) -> None:
        self.conn.execute("DELETE FROM search_doc")

    def optimize(self) -> None:
        self.conn.execute("ANALYZE search_doc")

    def merge(self, seconds: float | None = None) -> bool:
        """Nothing to merge: autovacuum folds GIN's pending entries into the index."""
        return True

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
        clauses, params, checks, check_params = self._where(plan, query, category, exclude_ids)
        limit = engine.window(page, per_page)
        if plan.groups:
            rows = self._newest(clauses, params, checks, check_params, limit)
        else:
            clauses, params = clauses + checks, params + check_params
            where = " AND ".join(clauses) or "TRUE"
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
        self,
        clauses: list[str],
        params: list[Any],
        checks: list[str],
        check_params: list[Any],
        limit: int,
    ) -> list[tuple[int, int | None, int | None]]:
        """The newest ``limit`` matches, looked for in slices of ids growing fourfold from the
        newest.

        A GIN bitmap has no order: asked for the newest 1,000 of 20,000 matches, PostgreSQL
        would fetch and check all 20,000 rows. A slice is a few blocks of ids, whose keys are
        in the same GIN index (``&&``), so one index scan returns only the slice's matches and
        the search stops as soon as enough are found, like FTS5's rowid order does. A range of
        the primary key would let the planner test the keys row by row instead (below).

        ``checks`` (``strpos`` in the text) run on the slice's candidates newest first, after
        the sort and before the limit (``OFFSET 0`` keeps the planner from moving them into
        the scan), so they stop with the limit too: a phrase in 75% of the articles checks
        about 1,300 texts, not every candidate of the slice.
        """
        first, newest = self.conn.execute("SELECT min(id), max(id) FROM search_doc").fetchone() or (
            None,
            None,
        )
        if first is None or newest is None:
            return []
        rows: list[tuple[int, int | None, int | None]] = []
        high, width = newest >> BLOCK_BITS, SLICE_BLOCKS
        where = " AND ".join(["search_keys(d.grams) && %s::bigint[]", *clauses])
        check = " AND ".join(checks) or "TRUE"
        # Never prepared (psycopg prepares a query run five times): a generic plan cannot see
        # how selective the terms, category and dates are, and chose a plan 20-100 times
        # slower for a filtered common word (the benchmark's "filtered" p95 was 0.9 s).
        # Bitmap scans only: given ORDER BY id and LIMIT the planner may walk the primary key
        # and test every row. search_keys() is declared costly, so that no plan tests the keys
        # of rows the index did not return (each test detoasts some 10 KB), which makes plan
        # costs huge: no JIT, it would compile (100 ms and more) a query of milliseconds.
        previous = self.conn.execute(
            "SELECT current_setting('enable_indexscan'), current_setting('jit')"
        ).fetchone()
        self.conn.execute(
            "SELECT set_config('enable_indexscan', 'off', false), set_config('jit', 'off', false)"
        )
        try:
            while high >= first >> BLOCK_BITS and len(rows) < limit:
                low = max(first >> BLOCK_BITS, high - width + 1)
                blocks = [-n - 1 for n in range(low, high + 1)]
                rows.extend(
                    self.conn.execute(
                        "SELECT d.id, d.published, d.story FROM ("
                        "SELECT d.id, d.published, d.story, d.title, d.body FROM search_doc d "
                        f"WHERE {where} ORDER BY d.id DESC OFFSET 0) d WHERE {check} LIMIT %s",
                        [blocks, *params, *check_params, limit - len(rows)],
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
    ) -> tuple[list[str], list[Any], list[str], list[Any]]:
        """What the index and the cheap columns decide (``clauses``), and the checks in the
        text that make a match exact (``checks``: terms of three or more characters, and
        excluded terms)."""
        clauses: list[str] = []
        params: list[Any] = []
        checks: list[str] = []
        check_params: list[Any] = []
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
        for group in plan.groups:
            # The keys of a one- or two-character term say exactly whether a text holds it;
            # a longer term's pairs only that it may: strpos decides.
            clauses.append(
                "(" + " OR ".join(["search_keys(d.grams) @> %s::bigint[]"] * len(group)) + ")"
            )
            params.extend(term_grams(term) for term in group)
            if any(len(term) > 2 for term in group):
                checks.append("(" + " OR ".join([f"strpos({TEXT}, %s) > 0"] * len(group)) + ")")
                check_params.extend(group)
        for term in plan.excludes:
            checks.append(f"strpos({TEXT}, %s) = 0")
            check_params.append(term)
        return clauses, params, checks, check_params

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
