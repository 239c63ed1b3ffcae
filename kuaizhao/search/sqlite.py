"""Search on SQLite: an FTS5 table of character trigrams (``search_fts``), two for ranking
(``search_titles``: the titles' trigrams again; ``search_words``: words; see
kuaizhao.search.document), a small ``search_doc`` table for filters and time.

In ``search_fts`` an article's rowid counts down as its id counts up (``ROWIDS - id``): a
query's newest matches, the ones ranked, are the first of every doclist, found walking
forwards, which FTS5 does at about two thirds of the cost of walking backwards. The ranking
tables keep the article's id: their lookups walk the candidates' range forwards too, from
its oldest article, and past its end only as far as the next newer match (see ``TEXT_COST``).

Every term, of any length, is answered by the index: a phrase of its overlapping trigrams
(three or more characters) or a prefix query on the trigrams (one or two characters, answered
by the prefix indexes). The whole query (groups, OR, exclusions) is one FTS5 expression built
from quoted strings only, so nothing a reader types is ever FTS syntax.

Ranking does not use FTS5's ``bm25()``: its first call counts every row that contains each
phrase (for the IDF), a cost that grows with the archive (at 100,000 articles it added 75 ms
to a common phrase). Instead the candidates (at most ``engine.CANDIDATES``, the newest
matches) are scored by two more index lookups per term, bounded to the candidates' rowid
range: a hit in the title (``search_titles``) weighs ``TITLE_WEIGHT``, the term as whole jieba
words (``search_words``) ``WORD_WEIGHT``, any hit 1; recency is added by
kuaizhao.search.engine. The whole-word weights come from the candidates' own text instead
where that costs less (see ``TEXT_COST``), and then only for the candidates that can reach
the page shown (kuaizhao.search.engine.best_first).
"""

from __future__ import annotations

import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterable
from functools import partial
from typing import Any

from kuaizhao.search import engine
from kuaizhao.search.base import Order, Page
from kuaizhao.search.document import (
    SPACE,
    Doc,
    clean,
    day_end,
    day_start,
    epoch,
    phrase,
    trigram_stream,
    unfolded_pattern,
    whole_words_in,
    word_stream,
    words,
)
from kuaizhao.search.query import Query
from kuaizhao.search.schema import schema_sql

TITLE_WEIGHT = 10.0
WORD_WEIGHT = 3.0
FTS_TABLES = ("search_fts", "search_titles", "search_words")
ROWIDS = 1 << 31
"""An article's rowid in ``search_fts`` is ``ROWIDS - id`` (:func:`fts_rowid`): newest first, and
small enough for FTS5's variable-length integers (five bytes at most for two billion
articles; past that rowids go negative and stay in order)."""
PROBE = 16
MERGE_PAGES = 500
"""Leaf pages (about 4 KB each) one merge step writes at most, per FTS5 table."""
INDEX_CHUNK = 500
"""Articles ``index`` writes at a time (the streams of a chunk are held in memory)."""
WINDOW = 4096
TEXT_COST = 30e-6
"""Seconds to refine one candidate from its own text (the row read, the term found in the
unfolded text, the blocks around it segmented: kuaizhao.search.document), measured at
100,000 articles.

The FTS5 lookup of a term's whole-word hits over a rowid range costs what scanning the
phrase's doclists from the range's first rowid *to the next match after its last* costs:
FTS5 (SQLite 3.40) ends a range only at a row past it, so a phrase with no later match is
scanned to the end of the table (measured at 100,000 articles: a range of one rowid 0.2 ms
near the end, 7.5 ms in the middle). That grows with the archive and with how common the
phrase's rarest word is: a run of common words (与 。 下 一步 , 珠海) costs about 0.2 µs a
rowid. Reading the candidates' text does not. So a term with at most ``PROBE`` candidates is
scored from their text; with more, lookups over the last ``WINDOW`` rowids (and one past the
end, for the fixed part: parsing, opening the doclists) tell the cost per rowid, and the
whole-word weights come whichever way costs less, the text counted at its worst (every
candidate refined). Candidates within ``WINDOW`` rowids (a phrase in most articles: its
newest thousand lie close together) are scored by lookups without the timing, which would
cost more than the lookups themselves (at 300,000 articles, 3–5 ms of a 12 ms query). Both
ways give the same scores (a test compares them): the choice changes only time.

Title hits are always looked up, in ``search_titles``: its doclists are short (0.01 ms over
40,000 rowids at 300,000 articles, where the title column of ``search_fts``, whose doclists
hold every body's positions too, took 2.6 ms)."""


def fts_rowid(n: int) -> int:
    """The ``search_fts`` rowid of article ``n``, and the article of rowid ``n`` (its own
    inverse)."""
    return ROWIDS - n


def like_pattern(term: str) -> str:
    r"""``term`` as a LIKE pattern that matches it anywhere, wildcards escaped.

    >>> like_pattern("50%_")
    '%50\\%\\_%'
    """
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def quoted(tokens: Iterable[str]) -> str:
    """An FTS5 string of ``tokens``: a phrase, never syntax.

    >>> quoted(['a"', 'b'])
    '"a"" b"'
    """
    return '"' + " ".join(tokens).replace('"', '""') + '"'


def contains(term: str) -> str:
    """An FTS5 expression true exactly when folded ``term`` occurs in a row of trigrams: its
    title or body in ``search_fts``, its title in ``search_titles``. No column filter: a
    phrase never spans two columns, and a filter costs (15% of finding a phrase's newest
    thousand matches at 300,000 articles)."""
    if len(term) <= 2:
        return quoted([term.replace(" ", SPACE)]) + " *"
    return quoted(phrase(term))


def as_words(term: str) -> str:
    """True (in ``search_words``) when folded ``term`` occurs as a run of whole words (implies
    ``contains``)."""
    return quoted(words(term))


def expression(plan: engine.Plan) -> str:
    positive = " AND ".join("(" + " OR ".join(map(contains, g)) + ")" for g in plan.groups)
    return "".join([positive, *(f" NOT ({contains(t)})" for t in plan.excludes)])


class SqliteSearch:
    """The embedded backend over ``search_fts``/``search_doc`` and the article table."""

    def __init__(self, conn: sqlite3.Connection, articles: str = "archive_article") -> None:
        self.conn = conn
        self.articles = articles

    # -- indexing ------------------------------------------------------------------------------
    def index(self, docs: Iterable[Doc]) -> int:
        """Add (or replace) articles in the index; returns how many. The caller commits.

        The FTS5 rows are written after every other row of a chunk: a statement that opens
        a statement journal (an ``INSERT … RETURNING``, as Django saves a row) makes SQLite
        3.40 flush every FTS5 table written in the transaction to a new segment, so FTS5
        writes are best the last of a transaction (see kuaizhao.archive.searching.held).
        Each table's rows are written in ascending rowid order, so that ``docs`` is one
        segment a table (FTS5 flushes its pending rows to a new segment whenever a rowid is
        not above the last one written): ``search_fts`` newest article first, the ranking
        tables oldest first."""
        latest = {doc.id: doc for doc in docs}  # the last of an id's documents wins
        newest = [latest[i] for i in sorted(latest, reverse=True)]
        chunks = [newest[at : at + INDEX_CHUNK] for at in range(0, len(newest), INDEX_CHUNK)]
        for chunk in chunks:
            self._index_matching(chunk)
        for chunk in reversed(chunks):
            self._index_ranking(chunk[::-1])
        return len(newest)

    def _index_matching(self, docs: list[Doc]) -> None:
        """``search_doc`` and ``search_fts`` rows of ``docs``, newest first."""
        self.remove([doc.id for doc in docs])
        self.conn.executemany(
            "INSERT INTO search_doc (id, published, category, source, story) "
            "VALUES (?, ?, ?, ?, ?)",
            [(d.id, epoch(d.published_at), d.category, clean(d.source), d.story) for d in docs],
        )
        self._write_trigrams((d.id, d.title, d.body) for d in docs)

    def _write_trigrams(self, articles: Iterable[tuple[int, str, str]]) -> None:
        """``search_fts`` rows of ``articles`` (id, title, text), in the order given."""
        self.conn.executemany(
            "INSERT INTO search_fts (rowid, title, body) VALUES (?, ?, ?)",
            [
                (fts_rowid(pk), trigram_stream(clean(title)), trigram_stream(clean(body)))
                for pk, title, body in articles
            ],
        )

    def _index_ranking(self, docs: list[Doc]) -> None:
        """``search_titles`` and ``search_words`` rows of ``docs``, oldest first."""
        titles, wordlists = [], []
        for doc in docs:
            title = clean(doc.title)
            titles.append((doc.id, trigram_stream(title)))
            wordlists.append((doc.id, word_stream(title, clean(doc.body))))
        self.conn.executemany("INSERT INTO search_titles (rowid, title) VALUES (?, ?)", titles)
        self.conn.executemany("INSERT INTO search_words (rowid, words) VALUES (?, ?)", wordlists)

    def remove(self, ids: Iterable[int]) -> None:
        """Forget articles. A contentless FTS5 table (SQLite < 3.43) deletes a row by its
        tokens; those are rebuilt from the article table's text, so call this before the
        article row is deleted (or changed). Only rows in ``search_doc`` are deleted from the
        FTS5 tables: deleting tokens a table does not hold would corrupt it."""
        for article_id in ids:
            if not self.conn.execute(
                "SELECT 1 FROM search_doc WHERE id = ?", (article_id,)
            ).fetchone():
                continue
            row = self.conn.execute(
                f"SELECT title, body_text FROM {self.articles} WHERE id = ?", (article_id,)
            ).fetchone()
            if row is not None:
                title, body = clean(row[0]), clean(row[1])
                title_stream = trigram_stream(title)
                self.conn.execute(
                    "INSERT INTO search_fts (search_fts, rowid, title, body) "
                    "VALUES ('delete', ?, ?, ?)",
                    (fts_rowid(article_id), title_stream, trigram_stream(body)),
                )
                self.conn.execute(
                    "INSERT INTO search_titles (search_titles, rowid, title) "
                    "VALUES ('delete', ?, ?)",
                    (article_id, title_stream),
                )
                self.conn.execute(
                    "INSERT INTO search_words (search_words, rowid, words) VALUES ('delete', ?, ?)",
                    (article_id, word_stream(title, body)),
                )
            self.conn.execute("DELETE FROM search_doc WHERE id = ?", (article_id,))

    def add_titles(self, batch: int = 5000) -> bool:
        """Create ``search_titles`` and fill it from the articles already indexed, if the index
        was made before it (migration 0009); whether it did. The caller commits."""
        if self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_titles'").fetchone():
            return False
        for sql in schema_sql("sqlite"):  # every statement creates only what is missing
            self.conn.execute(sql)
        last = 0
        while rows := self.conn.execute(
            f"SELECT a.id, a.title FROM search_doc d JOIN {self.articles} a ON a.id = d.id "
            "WHERE d.id > ? ORDER BY d.id LIMIT ?",
            (last, batch),
        ).fetchall():
            self.conn.executemany(
                "INSERT INTO search_titles (rowid, title) VALUES (?, ?)",
                [(pk, trigram_stream(clean(title))) for pk, title in rows],
            )
            last = rows[-1][0]
        return True

    def renumber(self, batch: int = 5000) -> None:
        """Rebuild ``search_fts`` with its rowids newest first (migration 0010) from the
        articles ``search_doc`` holds, newest first, and merge it into one segment; the
        ranking tables and ``search_doc`` are left as they are. The caller commits."""
        self.conn.execute("DROP TABLE IF EXISTS search_fts")
        for sql in schema_sql("sqlite"):  # every statement creates only what is missing
            self.conn.execute(sql)
        last = int(self.conn.execute("SELECT max(id) FROM search_doc").fetchone()[0] or 0) + 1
        while rows := self.conn.execute(
            f"SELECT a.id, a.title, a.body_text FROM search_doc d "
            f"JOIN {self.articles} a ON a.id = d.id WHERE d.id < ? ORDER BY d.id DESC LIMIT ?",
            (last, batch),
        ).fetchall():
            self._write_trigrams(rows)
            last = rows[-1][0]
        self.conn.execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')")

    def set_story(self, ids: Iterable[int], story: int) -> None:
        """Put indexed articles into ``story`` (stories merge as copies are found)."""
        self.conn.executemany(
            "UPDATE search_doc SET story = ? WHERE id = ?", [(story, i) for i in ids]
        )

    def clear(self) -> None:
        for table in FTS_TABLES:
            self.conn.execute(f"INSERT INTO {table} ({table}) VALUES ('delete-all')")
        self.conn.execute("DELETE FROM search_doc")

    def optimize(self) -> None:
        """Merge each FTS5 table into one segment (rewrites the whole index)."""
        for table in FTS_TABLES:
            self.conn.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")

    def merge(self, seconds: float | None = None) -> bool:
        """Merge the index's segments for about ``seconds`` at most (None: until done);
        whether it is done.

        FTS5 writes each transaction's rows as a new segment and, as rows come, merges four
        segments of one level into one of the next (``automerge``). A lookup reads every
        segment, so the 16 segments that leaves at 1,000,000 articles doubled search times.
        This merges any level holding two or more (``usermerge`` 2), in steps of at most
        ``MERGE_PAGES`` leaf pages a table (each its own statement: on an autocommit
        connection, its own transaction), until no level holds two: at most one segment a
        level. A merge cut short goes on at the next call; readers see the index whole
        throughout."""
        deadline = None if seconds is None else time.monotonic() + seconds
        for table in FTS_TABLES:
            setting = f"SELECT v FROM {table}_config WHERE k = 'usermerge'"
            if self.conn.execute(setting).fetchone() != (2,):  # kept in the table's config
                self.conn.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('usermerge', 2)")
        while deadline is None or time.monotonic() < deadline:
            worked = False
            for table in FTS_TABLES:
                before = self.conn.total_changes
                self.conn.execute(
                    f"INSERT INTO {table} ({table}, rank) VALUES ('merge', ?)", (MERGE_PAGES,)
                )
                # FTS5 tells a merge that did nothing by changing fewer than two rows.
                worked |= self.conn.total_changes - before >= 2
            if not worked:
                return True
        return False

    def segments(self) -> dict[str, list[int]]:
        """Each FTS5 table's segments: how many on each level, lowest first."""
        return {table: _levels(self.conn, table) for table in FTS_TABLES}

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
        clauses, params = self._filters(query, category, exclude_ids)
        limit = engine.window(page, per_page)
        if plan.groups:
            sql = (
                "SELECT d.id, 0.0, d.published, d.story FROM search_fts f "
                f"CROSS JOIN search_doc d ON d.id = {ROWIDS} - f.rowid "
                f"WHERE search_fts MATCH ? {''.join(' AND ' + c for c in clauses)} "
                "ORDER BY f.rowid LIMIT ?"
            )
            rows = self.conn.execute(sql, [expression(plan), *params, limit]).fetchall()
        else:
            if plan.excludes:
                excluded = " OR ".join(f"({contains(t)})" for t in plan.excludes)
                clauses.append(
                    f"d.id NOT IN (SELECT {ROWIDS} - rowid FROM search_fts "
                    "WHERE search_fts MATCH ?)"
                )
                params.append(excluded)
            where = " AND ".join(clauses) or "1"
            rows = self.conn.execute(
                f"SELECT d.id, 0.0, d.published, d.story FROM search_doc d WHERE {where} "
                "ORDER BY d.published DESC, d.id DESC LIMIT ?",
                [*params, limit],
            ).fetchall()
        scores: dict[int, float] = {}
        refine: engine.Refine | None
        slack, refine = 0.0, None
        if plan.groups and order == "time":  # only the hits shown are scored
            refine = partial(self._exact, plan)
        elif plan.groups:
            scores, slack, refine = self._scores(plan, [r[0] for r in rows])
        candidates = [engine.Candidate(r[0], scores.get(r[0], 0.0), r[2], r[3]) for r in rows]
        complete = len(candidates) < limit
        if complete:
            total = engine.stories(candidates)
        elif plan.groups:
            # Two queries: SQLite answers min() or max() alone from the b-tree, not both.
            first = self.conn.execute("SELECT min(id) FROM search_doc").fetchone()[0]
            newest = self.conn.execute("SELECT max(id) FROM search_doc").fetchone()[0]
            found = engine.stories(candidates)
            total = engine.estimate(found, newest, candidates[-1].id, first)
        else:
            where = " AND ".join(clauses) or "1"
            total = self.conn.execute(
                f"SELECT count(DISTINCT coalesce(d.story, d.id)) FROM search_doc d WHERE {where}",
                params,
            ).fetchone()[0]
            complete = True
        return engine.page_of(
            query,
            candidates,
            complete=complete,
            total=total,
            page=page,
            per_page=per_page,
            order=order,
            originals=self._originals,
            slack=slack,
            refine=refine,
        )

    def _filters(
        self, query: Query, category: str | None, exclude_ids: tuple[int, ...]
    ) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if category := query.category or category:
            clauses.append("d.category = ?")
            params.append(category)
        if query.source and (source := clean(query.source)):
            clauses.append("d.source LIKE ? ESCAPE '\\'")
            params.append(like_pattern(source))
        if query.after:
            clauses.append("d.published >= ?")
            params.append(day_start(query.after))
        if query.before:
            clauses.append("d.published < ?")
            params.append(day_end(query.before))
        if exclude_ids:
            clauses.append(f"d.id NOT IN ({','.join('?' * len(exclude_ids))})")
            params.extend(exclude_ids)
        return clauses, params

    def _scores(
        self, plan: engine.Plan, ids: list[int]
    ) -> tuple[dict[int, float], float, engine.Refine | None]:
        """Text scores of the candidates ``ids``: exact, or lower bounds ``slack`` below the
        exact ones ``refine`` gives (see engine.best_first), when the whole-word hits of some
        terms come from the text, and then only for the candidates ``refine`` is asked about."""
        scores = dict.fromkeys(ids, 1.0)
        if not ids:
            return scores, 0.0, None
        lowest, highest = min(ids), max(ids)
        from_text = []
        in_title: defaultdict[int, set[str]] = defaultdict(set)
        for term in plan.terms:
            for rowid in self._hits("search_titles", contains(term), lowest, highest):
                if rowid in scores:
                    scores[rowid] += TITLE_WEIGHT
                    in_title[rowid].add(term)
            # One word: its own doclist, short, or dense where it is long; timing the
            # lookups costs about as much as doing them (4-5 ms at 1,000,000 articles).
            run = words(term)
            if len(run) < 2 or (
                len(ids) > PROBE
                and (highest - lowest < WINDOW or self._lookups_cheaper(term, lowest, len(ids)))
            ):
                self._word_hits(term, lowest, highest, scores)
            else:
                from_text.append((term, run, unfolded_pattern(term)))
        if not from_text:
            return scores, 0.0, None

        def refine(chosen: list[int]) -> dict[int, float]:
            texts = self._originals(chosen)
            exact = {}
            for rowid in chosen:
                title, body = texts.get(rowid, ("", ""))
                terms = in_title.get(rowid, ())
                exact[rowid] = scores[rowid] + WORD_WEIGHT * sum(
                    (term in terms and whole_words_in(title, run, pattern))
                    or whole_words_in(body, run, pattern)
                    for term, run, pattern in from_text
                )
            return exact

        return scores, WORD_WEIGHT * len(from_text), refine

    def _exact(self, plan: engine.Plan, ids: list[int]) -> dict[int, float]:
        scores, _, refine = self._scores(plan, ids)
        return scores if refine is None else refine(ids)

    def _lookups_cheaper(self, term: str, lowest: int, count: int) -> bool:
        """Whether the FTS5 lookup of ``term``'s whole-word hits from ``lowest`` on costs less
        than reading them from the text of ``count`` candidates (at worst every one refined),
        timed on the last ``WINDOW`` rowids (and past the end, for the fixed part)."""
        last = int(self.conn.execute("SELECT max(id) FROM search_doc").fetchone()[0] or 0)
        thrown: dict[int, float] = {}
        started = time.perf_counter()
        self._word_hits(term, last + 1, last + 1, thrown)
        fixed = time.perf_counter() - started
        self._word_hits(term, last - WINDOW, last, thrown)
        per_rowid = max(0.0, time.perf_counter() - started - 2 * fixed) / (WINDOW + 1)
        return fixed + per_rowid * (last - lowest + 1) <= TEXT_COST * count

    def _word_hits(self, term: str, lowest: int, highest: int, scores: dict[int, float]) -> None:
        """Add ``term``'s whole-words weight to the articles of ``scores`` in [``lowest``,
        ``highest``] by an FTS5 lookup."""
        for rowid in self._hits("search_words", as_words(term), lowest, highest):
            if rowid in scores:
                scores[rowid] += WORD_WEIGHT

    def _hits(self, table: str, expr: str, lowest: int, highest: int) -> list[int]:
        """The articles in [``lowest``, ``highest``] whose row in ``table`` (a ranking table,
        rowid the article's id) matches ``expr``.

        Walked forwards, oldest first: FTS5 ends the walk at the first match past the range,
        which lies between ``highest`` and the newest article."""
        rows = self.conn.execute(
            f"SELECT rowid FROM {table} WHERE {table} MATCH ? AND rowid BETWEEN ? AND ?",
            (expr, lowest, highest),
        )
        return [r for (r,) in rows]

    def _originals(self, ids: list[int]) -> dict[int, tuple[str, str]]:
        """Title and text of the articles ``ids``: a page's hits or a batch of candidates
        refined, at most ``engine.REFINE_BATCH`` (a statement's parameters may be bounded)."""
        rows = self.conn.execute(
            f"SELECT id, title, body_text FROM {self.articles} "
            f"WHERE id IN ({','.join('?' * len(ids))})",
            ids,
        )
        return {r[0]: (r[1], r[2]) for r in rows}


def _levels(conn: sqlite3.Connection, table: str) -> list[int]:
    """The segments on each level of an FTS5 table, from its structure record (the row of id
    10 of its ``_data`` table): a 4-byte cookie, a 4-byte marker in tables that delete from
    contentless rows (whose segments carry five more numbers), then varints: levels, segments,
    write counter, and for each level the segments in an ongoing merge, its segments, and
    three numbers for each (id, first and last leaf page)."""
    row = conn.execute(f"SELECT block FROM {table}_data WHERE id = 10").fetchone()
    if row is None:
        return []
    block: bytes = row[0]
    extended = block[4:8] == b"\xff\x00\x00\x01"
    at = 8 if extended else 4
    levels, at = _varint(block, at)
    _, at = _varint(block, at)  # segments
    _, at = _varint(block, at)  # write counter
    counts = []
    for _ in range(levels):
        _, at = _varint(block, at)  # in an ongoing merge
        count, at = _varint(block, at)
        counts.append(count)
        for _ in range(count * (8 if extended else 3)):
            _, at = _varint(block, at)
    return counts


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """SQLite's variable-length integer at ``at``: the value and the offset after it."""
    value = 0
    for i in range(8):
        byte = data[at + i]
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, at + i + 1
    return (value << 8) | data[at + 8], at + 9
