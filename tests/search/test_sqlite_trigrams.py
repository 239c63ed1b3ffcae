"""The SQLite trigram index: terms at the ends of a text, removal by tokens, migration 0006
rebuilding a catalogue's older index (character pairs) in place, 0009 adding the titles'
table to it and 0010 numbering the trigram table's rowids newest first."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.db import connection

from kuaizhao.archive import searching
from kuaizhao.archive.models import Article
from kuaizhao.search.document import (
    END,
    SPACE,
    Doc,
    clean,
    trigram_stream,
    trigrams,
    word_stream,
)
from kuaizhao.search.query import parse
from kuaizhao.search.schema import SQLITE_TOKENIZER, schema_sql
from kuaizhao.search.sqlite import ROWIDS, SqliteSearch
from tests.search.test_sqlite_fts5 import archive  # noqa: F401  (fixture)

TEXTS = {1: ("甲", "乙丙"), 2: ("丁戊己", "庚 辛壬。癸"), 3: ("", "山西中部城市群")}


@pytest.fixture
def small() -> Iterator[tuple[sqlite3.Connection, SqliteSearch]]:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE archive_article (id INTEGER PRIMARY KEY, title, body_text)")
    for sql in schema_sql("sqlite"):
        conn.execute(sql)
    conn.executemany(
        "INSERT INTO archive_article VALUES (?, ?, ?)", [(i, *t) for i, t in TEXTS.items()]
    )
    backend = SqliteSearch(conn)
    backend.index(Doc(i, *t) for i, t in TEXTS.items())
    yield conn, backend
    conn.close()


def hits(backend: SqliteSearch, text: str) -> set[int]:
    return {h.article_id for h in backend.search(parse(text), per_page=100).hits}


def brute(needle: str) -> set[int]:
    folded = clean(needle)
    return {i for i, (t, b) in TEXTS.items() if folded in clean(t) or folded in clean(b)}


def test_every_character_begins_one_token() -> None:
    assert trigrams("山西中部") == ["山西中", "西中部", f"中部{END}", f"部{END}"]
    assert trigrams("a b") == [f"a{SPACE}b", f"{SPACE}b{END}", f"b{END}"]
    assert trigrams("") == []


def test_every_substring_of_short_texts_is_found(
    small: tuple[sqlite3.Connection, SqliteSearch],
) -> None:
    _, backend = small
    for title, body in TEXTS.values():
        for text in (title, body):
            for start in range(len(text)):
                for end in range(start + 1, len(text) + 1):
                    needle = text[start:end]
                    if needle.strip() == needle and needle:
                        assert hits(backend, f'"{needle}"') == brute(needle), needle
    assert hits(backend, '"辛壬。"') == {2}
    assert hits(backend, '"壬癸"') == set()  # not across the 。
    assert hits(backend, '"甲乙"') == set()  # not across the title/body seam


def test_removal_by_tokens_leaves_a_consistent_index(
    small: tuple[sqlite3.Connection, SqliteSearch],
) -> None:
    conn, backend = small
    backend.remove([2])
    assert hits(backend, "丁戊") == set()
    backend.remove([2])  # not indexed any more: nothing is deleted twice
    conn.execute("UPDATE archive_article SET body_text = '戊己庚' WHERE id = 2")
    backend.index([Doc(2, "丁戊己", "戊己庚")])
    backend.remove([3])
    backend.index([Doc(3, "", "山西中部城市群")])
    for table in ("search_fts", "search_words"):
        conn.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")
    assert hits(backend, '"己庚"') == {2}
    assert hits(backend, '"辛壬"') == set()
    assert hits(backend, '"中部城"') == {3}
    rows = conn.execute("SELECT count(*) FROM search_fts WHERE search_fts MATCH '\"丁\" *'")
    assert rows.fetchone()[0] == 1


def test_title_hits_rank_first(small: tuple[sqlite3.Connection, SqliteSearch]) -> None:
    conn, backend = small
    conn.execute("INSERT INTO archive_article VALUES (4, '城市群', '山西')")
    backend.index([Doc(4, "城市群", "山西")])
    assert [h.article_id for h in backend.search(parse("城市群")).hits] == [4, 3]


# -- migration 0006 --------------------------------------------------------------------------

OLD_END = "\ue001"


def _pairs(folded: str) -> str:
    text = folded.replace(" ", SPACE) + OLD_END
    return " ".join(text[i : i + 2] for i in range(len(text) - 1))


def _install_pair_index() -> None:
    """The index as migrations 0004 and 0005 left it before trigrams: one table of pairs."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE search_words")
        cursor.execute("DROP TABLE search_titles")
        cursor.execute("DROP TABLE search_fts")
        cursor.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, words, content='', "
            f"prefix='1', columnsize=1, tokenize=\"{SQLITE_TOKENIZER}\")"
        )
        for article in Article.objects.all():
            title, body = clean(article.title), clean(article.body_text)
            cursor.execute(
                "INSERT INTO search_fts (rowid, title, body, words) VALUES (%s, %s, %s, %s)",
                [article.pk, _pairs(title), _pairs(body), word_stream(title, body)],
            )


def _migrate(name: str = "0006_search_trigrams", step: str = "rebuild") -> None:
    module = __import__(f"kuaizhao.archive.migrations.{name}", fromlist=[step])
    editor = SimpleNamespace(connection=connection, execute=connection.cursor().execute)
    getattr(module, step)(apps, editor)


TERMS = ("高铁", "运营", "航", "城市群", '"大同的高铁新线"', '"。"')


def _found() -> dict[str, list[tuple[int, int]]]:
    pages = {t: searching.search(parse(t)).hits for t in TERMS}
    return {t: [(h.article_id, h.copies) for h in hits] for t, hits in pages.items()}


@pytest.mark.django_db
def test_the_migration_rebuilds_a_pair_index(archive: dict[str, Article]) -> None:  # noqa: F811
    original, copy = archive["c2.html"].pk, archive["c3.html"].pk
    Article.objects.filter(pk=copy).update(story=original)
    searching.backend().set_story([copy], original)
    before = _found()
    assert before["运营"] == [(original, 1)]  # one story
    if connection.vendor == "sqlite":
        _install_pair_index()
    _migrate()
    assert _found() == before
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, story FROM search_doc ORDER BY id")
            stories = dict(cursor.fetchall())
        assert stories == {a.pk: a.story for a in Article.objects.all()}
    # an article saved again after the migration: its old tokens are deleted by token
    searching.save(Article.objects.get(pk=original))
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for table in ("search_fts", "search_titles", "search_words"):
                cursor.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")
    _migrate()  # a second run finds the new index and leaves it
    assert _found() == before


@pytest.mark.django_db
def test_the_migration_adds_the_titles_table(archive: dict[str, Article]) -> None:  # noqa: F811
    def scored() -> dict[str, list[tuple[int, float]]]:
        pages = {t: searching.search(parse(t)).hits for t in (*TERMS, "城市群建设")}
        return {t: [(h.article_id, h.score) for h in hits] for t, hits in pages.items()}

    before = scored()
    titled = archive["c1.html"].pk
    assert before["城市群建设"][0][0] == titled  # ranked first by its title
    if connection.vendor != "sqlite":
        _migrate("0009_search_titles", "fill")  # nothing to do
        assert scored() == before
        return
    hidden = archive["c3.html"]
    searching.backend().remove([hidden.pk])  # not indexed: no title row either
    before = scored()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE search_titles")
    _migrate("0009_search_titles", "fill")
    assert scored() == before
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM search_doc")
        indexed = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM search_titles WHERE search_titles MATCH '\"城市\" *'")
        assert cursor.fetchone()[0] == 1
    assert indexed == Article.objects.count() - 1
    searching.save(Article.objects.get(pk=titled))  # its title row deleted by its tokens
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO search_titles (search_titles) VALUES ('integrity-check')")
    _migrate("0009_search_titles", "fill")  # a second run finds the table and leaves it
    assert scored() == before


def test_phrase_scores_from_text_equal_the_index_lookups(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kuaizhao.search import engine, sqlite
    from tests.search.test_contract import DOCS

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE archive_article (id INTEGER PRIMARY KEY, title, body_text)")
    for sql in schema_sql("sqlite"):
        conn.execute(sql)
    conn.executemany(
        "INSERT INTO archive_article VALUES (?, ?, ?)", [(d.id, d.title, d.body) for d in DOCS]
    )
    backend = SqliteSearch(conn)
    backend.index(DOCS)
    ids = [d.id for d in DOCS]
    checked = weighted = 0
    from_text: list[int] = []
    real = sqlite.whole_words_in

    def counted(*args: Any) -> bool:
        from_text.append(1)
        return real(*args)

    def costs(seconds: float) -> None:
        monkeypatch.setattr(sqlite, "TEXT_COST", seconds)

    monkeypatch.setattr(sqlite, "whole_words_in", counted)
    monkeypatch.setattr(sqlite, "PROBE", 0)
    monkeypatch.setattr(sqlite, "WINDOW", 0)  # timed, however close the candidates
    for doc in DOCS[::7]:
        for text in (doc.title, doc.body[:40], doc.body[-30:]):
            plan = engine.plan(parse(f'"{text}" 山西'))
            if not plan.groups:
                continue
            costs(float("inf"))  # FTS5 lookups only
            by_index = backend._exact(plan, ids)
            costs(0.0)  # from the text only
            assert backend._exact(plan, ids) == by_index, text
            checked += 1
            weighted += sum(score > 1 for score in by_index.values())
    assert checked > 10
    assert len(from_text) >= checked * len(DOCS)  # the text path ran
    assert weighted > checked  # title and whole-word weights were there to compare


def test_close_candidates_are_scored_by_lookups_untimed(monkeypatch: pytest.MonkeyPatch) -> None:
    from kuaizhao.search import engine, sqlite

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE archive_article (id INTEGER PRIMARY KEY, title, body_text)")
    for sql in schema_sql("sqlite"):
        conn.execute(sql)
    # A phrase in every article; as whole words in every third body and every fifth title.
    docs = [
        Doc(
            i,
            "推进生态保护" if i % 5 == 0 else f"标题{i}",
            "各地推进生态保护。" if i % 3 == 0 else "各地推进生态保护区建设。",
        )
        for i in range(1, 61)
    ]
    conn.executemany(
        "INSERT INTO archive_article VALUES (?, ?, ?)", [(d.id, d.title, d.body) for d in docs]
    )
    backend = SqliteSearch(conn)
    backend.index(docs)
    plan = engine.plan(parse('"推进生态保护"'))
    ids = [d.id for d in docs]
    timed: list[str] = []
    real = backend._lookups_cheaper

    def timing(*args: Any) -> bool:
        timed.append(args[0])
        return real(*args)

    monkeypatch.setattr(backend, "_lookups_cheaper", timing)
    monkeypatch.setattr(sqlite, "PROBE", 0)
    monkeypatch.setattr(sqlite, "TEXT_COST", 0.0)  # the text would be chosen, if timed
    scores, slack, refine = backend._scores(plan, ids)
    assert timed == [] and refine is None and slack == 0.0  # exact scores, from lookups
    assert scores == {i: 1 + 10 * (i % 5 == 0) + 3 * (i % 5 == 0 or i % 3 == 0) for i in ids}
    monkeypatch.setattr(sqlite, "WINDOW", 0)  # spread out: timed, and the text chosen
    _, slack, refine = backend._scores(plan, ids)
    assert timed == ["推进生态保护"] and refine is not None and slack == 3.0
    assert refine(ids) == scores


def test_a_deep_page_binds_few_parameters_a_statement(monkeypatch: pytest.MonkeyPatch) -> None:
    from kuaizhao.search import sqlite

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE archive_article (id INTEGER PRIMARY KEY, title, body_text)")
    for sql in schema_sql("sqlite"):
        conn.execute(sql)
    docs = [Doc(i, f"标题{i}", "新闻正文" if i % 2 else "正文新闻") for i in range(1, 1201)]
    conn.executemany(
        "INSERT INTO archive_article VALUES (?, ?, ?)", [(d.id, d.title, d.body) for d in docs]
    )
    backend = SqliteSearch(conn)
    backend.index(docs)
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 200)  # as a build that bounds them
    monkeypatch.setattr(sqlite, "TEXT_COST", 0.0)  # every candidate refined from its text
    monkeypatch.setattr(sqlite, "WINDOW", 0)  # however close the candidates lie
    for order in ("relevance", "time"):
        page = backend.search(parse('"新闻正文"'), page=6, per_page=100, order=order)
        assert page.total == 600
        assert len(page.hits) == 100
        assert [h.article_id for h in page.hits] == sorted(
            (h.article_id for h in page.hits), reverse=True
        )


# -- merging segments ----------------------------------------------------------------------


def test_merging_segments_keeps_every_hit(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from kuaizhao.search import sqlite

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE archive_article (id INTEGER PRIMARY KEY, title, body_text)")
    for sql in schema_sql("sqlite"):
        conn.execute(sql)
    backend = SqliteSearch(conn)
    assert backend.segments() == {table: [] for table in sqlite.FTS_TABLES}
    docs = [
        Doc(i, f"第{i}号标题", f"山西中部城市群第{i}次会议。" * (1 + i % 5)) for i in range(1, 41)
    ]
    for doc in docs:  # a transaction each: a segment each, until automerge merges four
        conn.execute("INSERT INTO archive_article VALUES (?, ?, ?)", (doc.id, doc.title, doc.body))
        backend.index([doc])
        conn.commit()
    left = backend.segments()
    assert all(max(levels) >= 2 and sum(levels) >= 4 for levels in left.values())
    terms = ['"城市群"', "山", '"第17次"', "第3号", '"会议。山西"', "第40号 会议"]

    def found() -> list[list[tuple[int, float]]]:
        return [
            [(h.article_id, h.score) for h in backend.search(parse(t), per_page=50).hits]
            for t in terms
        ]

    before = found()
    assert len(before[0]) == 40 and before[2] == [(17, before[2][0][1])]
    assert backend.merge(0) is False  # no time: nothing done
    assert backend.segments() == left

    # One step of one leaf page: a merge cut short, which the next call goes on with.
    monkeypatch.setattr(sqlite, "MERGE_PAGES", 1)
    ticks = iter([0.0, 0.0, 1.0])
    monkeypatch.setattr(time, "monotonic", lambda: next(ticks))
    assert backend.merge(0.5) is False
    monkeypatch.undo()
    assert found() == before
    for table in sqlite.FTS_TABLES:
        conn.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")

    assert backend.merge() is True
    conn.commit()
    merged = backend.segments()
    assert all(max(levels) == 1 for levels in merged.values())  # one segment a level at most
    assert all(sum(merged[t]) < sum(left[t]) for t in left)
    assert found() == before
    for table in sqlite.FTS_TABLES:
        conn.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")
    assert backend.merge() is True  # nothing left to merge
    assert backend.segments() == merged


def test_a_batch_of_several_chunks_is_one_segment_a_table() -> None:
    from kuaizhao.search import sqlite

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE archive_article (id INTEGER PRIMARY KEY, title, body_text)")
    for sql in schema_sql("sqlite"):
        conn.execute(sql)
    count = 2 * sqlite.INDEX_CHUNK + 7
    docs = [Doc(i, f"第{i}号", f"山西中部城市群第{i}次会议。") for i in range(1, count + 1)]
    conn.executemany(
        "INSERT INTO archive_article VALUES (?, ?, ?)", [(d.id, d.title, d.body) for d in docs]
    )
    backend = SqliteSearch(conn)
    random.Random(7).shuffle(docs)
    assert backend.index([*docs, docs[0]]) == count  # an id given twice is indexed once
    conn.commit()
    assert backend.segments() == {table: [1] for table in sqlite.FTS_TABLES}
    page = backend.search(parse("城市群"), per_page=5)
    assert page.total == count
    assert [h.article_id for h in page.hits] == list(range(count, count - 5, -1))
    assert [h.article_id for h in backend.search(parse('"第3号"')).hits] == [3]


# -- migration 0010 --------------------------------------------------------------------------


def _install_oldest_first_index() -> None:
    """The index as migration 0009 left it: each FTS5 rowid the article's id (the ranking
    tables' still are)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM search_doc")
        indexed = {pk for (pk,) in cursor.fetchall()}
        for table in ("search_fts", "search_titles", "search_words"):
            cursor.execute(f"INSERT INTO {table} ({table}) VALUES ('delete-all')")
        for article in Article.objects.filter(pk__in=indexed).order_by("pk"):
            title, body = clean(article.title), clean(article.body_text)
            cursor.execute(
                "INSERT INTO search_fts (rowid, title, body) VALUES (%s, %s, %s)",
                [article.pk, trigram_stream(title), trigram_stream(body)],
            )
            cursor.execute(
                "INSERT INTO search_titles (rowid, title) VALUES (%s, %s)",
                [article.pk, trigram_stream(title)],
            )
            cursor.execute(
                "INSERT INTO search_words (rowid, words) VALUES (%s, %s)",
                [article.pk, word_stream(title, body)],
            )


@pytest.mark.django_db
def test_the_migration_numbers_rowids_newest_first(
    archive: dict[str, Article],  # noqa: F811
) -> None:
    def scored() -> dict[str, list[tuple[int, float, int]]]:
        pages = {t: searching.search(parse(t)).hits for t in (*TERMS, "城市群建设")}
        return {t: [(h.article_id, h.score, h.copies) for h in hits] for t, hits in pages.items()}

    original, copy = archive["c2.html"].pk, archive["c3.html"].pk
    Article.objects.filter(pk=copy).update(story=original)
    searching.backend().set_story([copy], original)
    hidden = archive["c1.html"].pk
    searching.backend().remove([hidden])
    before = scored()
    assert hidden not in {pk for hits in before.values() for pk, _, _ in hits}
    if connection.vendor != "sqlite":
        _migrate("0010_search_rowids_newest_first", "renumber")  # nothing to do
        assert scored() == before
        return
    _install_oldest_first_index()
    _migrate("0010_search_rowids_newest_first", "renumber")
    assert scored() == before
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, story FROM search_doc ORDER BY id")
        stories = dict(cursor.fetchall())
        assert stories == {a.pk: a.story for a in Article.objects.exclude(pk=hidden)}
        rowids = {  # search_fts newest first, the ranking tables by id
            "search_fts": [ROWIDS - pk for pk in sorted(stories, reverse=True)],
            "search_titles": sorted(stories),
            "search_words": sorted(stories),
        }
        for table, expected in rowids.items():
            cursor.execute(f"CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, {table}, instance)")
            cursor.execute("SELECT DISTINCT doc FROM temp.v ORDER BY doc")
            assert [r for (r,) in cursor.fetchall()] == expected
            cursor.execute("DROP TABLE temp.v")
            cursor.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")
        cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE 'search_doc%'")
        assert {name for (name,) in cursor.fetchall()} == {
            "search_doc",
            "search_doc_published",
            "search_doc_category",
        }
    # an article saved again after the migration: its rows are deleted by their tokens
    searching.save(Article.objects.get(pk=original))
    with connection.cursor() as cursor:
        for table in ("search_fts", "search_titles", "search_words"):
            cursor.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")
    assert scored() == before
