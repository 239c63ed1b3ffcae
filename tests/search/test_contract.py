"""The search contract, run the same way against every backend on a raw connection.

SQLite runs in a temporary file; PostgreSQL in a uniquely named database created for this
module and dropped after it. When no PostgreSQL server answers, its cases are skipped, unless
``KUAIZHAO_REQUIRE_SERVICES=1`` (CI), which makes them fail instead.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kuaizhao.sampleweb.corpus import Corpus
from kuaizhao.search import engine
from kuaizhao.search.base import Page
from kuaizhao.search.document import Doc, clean
from kuaizhao.search.postgres import PostgresSearch
from kuaizhao.search.query import Query, QueryError, parse
from kuaizhao.search.schema import drop_sql, schema_sql
from kuaizhao.search.sqlite import SqliteSearch
from kuaizhao.search.t2s import SIMPLIFIED, TRADITIONAL

PG_DSN = os.environ.get("KUAIZHAO_TEST_PG", "host=127.0.0.1 port=5432 user=postgres")
BASE = datetime(2024, 1, 1, tzinfo=UTC)

HANDMADE = [
    Doc(1, "山西中部城市群建设提速", "山西中部城市群高质量发展大会在太原召开。", BASE, "国内", "华夏日报网"),  # noqa: E501
    Doc(2, "高铁新线开通运营", "连接太原和大同的高铁新线今天开通运营，全程两小时。", BASE + timedelta(days=50), "国内", "江北新闻网"),  # noqa: E501
    Doc(3, "國際航線恢復運營", "多條國際航線本週恢復運營，旅客出行更加便利。", BASE + timedelta(days=60), "国际", "南风网"),  # noqa: E501
    Doc(4, "ＡＢＣ公司发布５Ｇ新品", "该公司表示，新品售价为1,999元（含税）。", BASE + timedelta(days=70), "科技", "快讯网"),  # noqa: E501
    Doc(5, "山西推进生态保护", "山西。中部地区加强黄河流域生态保护，成效明显。", BASE + timedelta(days=80), "国内", "西北日报"),  # noqa: E501
    Doc(6, "体育新闻", "运营方称，高铁沿线的体育场馆将开放。50%_的门票\"免费\"。", BASE + timedelta(days=90), "体育", "岚山新闻网"),  # noqa: E501
]  # fmt: skip


def sample_docs(count: int = 70) -> list[Doc]:
    corpus = Corpus(articles=count, seed=3)
    docs = []
    for n, entry in enumerate(corpus.manifest()["articles"]):
        docs.append(
            Doc(
                100 + n,
                entry["title"],
                "\n".join(entry["body"]),
                datetime.fromisoformat(entry["published_at"]).astimezone(UTC),
                entry["category"],
                entry["source"] or "",
            )
        )
    return docs


DOCS = HANDMADE + sample_docs()
BY_ID = {d.id: d for d in DOCS}


def _store(conn: Any, placeholder: str) -> None:
    sql = f"INSERT INTO archive_article (id, title, body_text) VALUES ({placeholder})"
    for doc in DOCS:
        conn.execute(sql, (doc.id, doc.title, doc.body))


@pytest.fixture(scope="module")
def sqlite_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqliteSearch]:
    path: Path = tmp_path_factory.mktemp("search") / "search.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE archive_article (id INTEGER PRIMARY KEY, title, body_text)")
    for sql in schema_sql("sqlite"):
        conn.execute(sql)
    _store(conn, "?, ?, ?")
    backend = SqliteSearch(conn)
    backend.index(DOCS)
    conn.commit()
    yield backend
    conn.close()


def _unavailable(reason: str) -> None:
    if os.environ.get("KUAIZHAO_REQUIRE_SERVICES") == "1":
        pytest.fail(f"PostgreSQL is required (KUAIZHAO_REQUIRE_SERVICES=1): {reason}")
    pytest.skip(f"PostgreSQL unreachable: {reason}")


@pytest.fixture(scope="module")
def postgresql_backend() -> Iterator[PostgresSearch]:
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(f"{PG_DSN} dbname=postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        _unavailable(str(exc).strip())
    name = f"kuaizhao_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        conn = psycopg.connect(f"{PG_DSN} dbname={name}", autocommit=True)
        conn.execute(
            "CREATE TABLE archive_article (id bigint PRIMARY KEY, title text, body_text text)"
        )
        for sql in schema_sql("postgresql"):
            conn.execute(sql)
        _store(conn, "%s, %s, %s")
        backend = PostgresSearch(conn)
        backend.index(DOCS)
        yield backend
        for sql in drop_sql("postgresql"):
            conn.execute(sql)
        conn.close()
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(f"{request.param}_backend")


def ids(page: Page) -> list[int]:
    return [hit.article_id for hit in page.hits]


def found(backend: Any, text: str, **kwargs: Any) -> set[int]:
    """The handmade articles found (the sample articles are there for the property test)."""
    every = ids(backend.search(parse(text), per_page=100, **kwargs))
    return {i for i in every if i < 100}


def ordered(backend: Any, text: str, **kwargs: Any) -> list[int]:
    return [i for i in ids(backend.search(parse(text), per_page=100, **kwargs)) if i < 100]


def brute(needle: str) -> set[int]:
    folded = clean(needle)
    return {d.id for d in DOCS if folded in clean(d.title) or folded in clean(d.body)}


SIMPLIFIED_TO_TRADITIONAL = {s: t for t, s in zip(TRADITIONAL, SIMPLIFIED, strict=True)}


def traditional(text: str) -> str:
    return "".join(SIMPLIFIED_TO_TRADITIONAL.get(c, c) for c in text)


# -- never miss ----------------------------------------------------------------------------


@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_any_substring_of_any_article_finds_it(backend, data):
    doc = data.draw(st.sampled_from(DOCS))
    text = data.draw(st.sampled_from([doc.title, doc.body]))
    length = data.draw(st.integers(1, min(12, len(text))))
    start = data.draw(st.integers(0, len(text) - length))
    needle = text[start : start + length]
    if not clean(needle):
        return
    expected = brute(needle)
    assert doc.id in expected
    for spelling in (needle, traditional(needle)):
        page = backend.search(Query(spelling, ((spelling,),)), per_page=100)
        assert set(ids(page)) == expected, spelling
        assert page.total == len(expected)


def brute_query(groups: tuple[tuple[str, ...], ...], excludes: tuple[str, ...]) -> set[int]:
    found = set.intersection(*(set().union(*map(brute, group)) for group in groups))
    return found - set().union(*map(brute, excludes))


@st.composite
def substrings(draw: st.DrawFn) -> str:
    doc = draw(st.sampled_from(DOCS))
    text = draw(st.sampled_from([doc.title, doc.body]))
    length = draw(st.integers(1, min(5, len(text))))
    start = draw(st.integers(0, len(text) - length))
    needle = text[start : start + length]
    assume(clean(needle))
    return needle


@settings(max_examples=150, deadline=None)
@given(
    groups=st.lists(st.lists(substrings(), min_size=1, max_size=2), min_size=1, max_size=2),
    excludes=st.lists(substrings(), max_size=2),
)
def test_any_query_of_short_and_long_terms_matches_brute_force(backend, groups, excludes):
    """AND, OR and exclusions of terms of every length (one or two characters are prefix
    queries on SQLite, longer ones phrases), against a scan."""
    query = Query("query", tuple(map(tuple, groups)), excludes=tuple(excludes))
    expected = brute_query(query.groups, query.excludes)
    page = backend.search(query, per_page=100)
    assert set(ids(page)) == expected
    assert page.total == len(expected)
    shown = ids(backend.search(query, per_page=5, order="time"))
    times = [BY_ID[i].published_at or BASE for i in shown]
    assert set(shown) <= expected and times == sorted(times, reverse=True)
    assert all((BY_ID[i].published_at or BASE) <= times[-1] for i in expected - set(shown))


@pytest.mark.parametrize("term", ["山西", "西", "城市群", "中部城市群", "太原", "，", "。", "高铁"])
def test_short_and_long_terms_match_brute_force(backend, term):
    assert set(ids(backend.search(parse(f'"{term}"'), per_page=100))) == brute(term)


def test_a_phrase_does_not_cross_a_sentence_end(backend):
    assert found(backend, "山西中部") == {1}
    assert found(backend, '"山西。中部"') == {5}


# -- folding -------------------------------------------------------------------------------


def test_traditional_and_simplified_find_each_other(backend):
    assert found(backend, "国际航线") == {3}
    assert found(backend, "國際航線") == {3}
    assert found(backend, "開通運營") == {2}


def test_full_width_and_half_width_find_each_other(backend):
    assert found(backend, "abc") == {4}
    assert found(backend, "ＡＢＣ") == {4}
    assert found(backend, "5G") == {4}
    assert found(backend, "1，999") == {4}


def test_snippets_show_the_original_text(backend):
    page = backend.search(parse("国际航线"))
    assert page.hits[0].title == "國際航線恢復運營"
    assert "國際航線" in page.hits[0].snippet


# -- query language and filters ------------------------------------------------------------


def test_and_or_and_exclude(backend):
    assert found(backend, "太原 高铁") == {2}
    assert found(backend, "城市群 OR 航线") == {1, 3}
    assert found(backend, "运营 -国际") == {2, 6}
    assert found(backend, '运营 -"國際航線"') == {2, 6}


def test_filters(backend):
    assert found(backend, "山西 category:国内") == {1, 5}
    assert found(backend, "高铁", category="体育") == {6}
    assert found(backend, "运营 source:江北") == {2}
    assert found(backend, "运营 source:南風") == {3}
    assert found(backend, "运营 after:2024-02-25 before:2024-03-05") == {3}
    assert found(backend, "高铁 after:2024-02-20 before:2024-02-20") == {2}
    assert found(backend, "高铁 after:2024-02-21 before:2024-03-31") == {6}
    assert found(backend, "高铁", exclude_ids=(2,)) - {2} == found(backend, "高铁") - {2}
    assert 2 not in found(backend, "高铁", exclude_ids=(2,))


def test_filters_with_only_exclusions(backend):
    assert found(backend, "category:国内 -高铁") == {1, 5}
    assert found(backend, "category:国内 -高铁 -山西。") == {1}


def test_filters_alone_list_the_newest(backend):
    page = backend.search(parse("category:国内 before:2024-03-01"), order="time")
    assert ids(page) == [2, 1]
    assert page.total == 2


def test_time_order_is_newest_first(backend):
    page = backend.search(parse("运营"), order="time", per_page=100)
    times = [h.published_at or BASE for h in page.hits]
    assert times == sorted(times, reverse=True)
    assert ordered(backend, "运营", order="time") == [6, 3, 2]


@pytest.mark.parametrize("text", ["运营", "高铁", "的", "山西 城市"])
def test_a_hit_scores_the_same_in_either_order(backend, text):
    by_relevance = backend.search(parse(text), per_page=100)
    by_time = backend.search(parse(text), order="time", per_page=100)
    scores = {h.article_id: h.score for h in by_relevance.hits}
    assert len(scores) > 1
    assert {h.article_id: h.score for h in by_time.hits} == scores


def test_the_title_weighs_more_than_the_body(backend):
    # 高铁 is in the title of 2 and only in the body of 6, which is newer.
    assert ordered(backend, "高铁")[:2] == [2, 6]


def test_pages_are_disjoint_and_complete(backend):
    query = parse("的")
    every = ids(backend.search(query, per_page=100))
    assert len(every) == len(brute("的")) > 6
    pages = [ids(backend.search(query, per_page=3, page=n)) for n in (1, 2, 3)]
    assert pages[0] + pages[1] + pages[2] == every[:9]
    assert backend.search(query, per_page=3).total == len(every)


def test_a_common_term_ranks_the_newest_matches(backend, monkeypatch):
    monkeypatch.setattr(engine, "CANDIDATES", 5)
    page = backend.search(parse("的"), per_page=5, order="time")
    newest = sorted(brute("的"), reverse=True)[:5]
    assert set(ids(page)) == set(newest)
    assert not page.exact
    assert page.total >= 5


# -- hostile input -------------------------------------------------------------------------

HOSTILE = [
    '"',
    '""',
    '"山西',
    "*",
    "山*",
    "NEAR(山西 太原)",
    "山西 NEAR 太原",
    "title:山西",
    "{title}:山西",
    "山西 AND OR NOT",
    "- -- ---",
    "OR",
    "(",
    ")",
    "^山西",
    "'; DROP TABLE archive_article; --",
    "1' OR '1'='1",
    "%",
    "_",
    "!",
    "\\",
    "50%_",
    "\x01\x02\x1f",
    "\ue000\ue001\ue002",
    "😀",
    "a" * 256,
    "山" * 10_000,
    "source:%",
    "after:9999-99-99",
    "category:不存在",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_queries_give_results_or_a_message(backend, text):
    try:
        query = parse(text)
    except QueryError as exc:
        assert str(exc)
        return
    page = backend.search(query)
    assert page.total >= len(page.hits)
    for hit in page.hits:
        assert hit.article_id in BY_ID


def test_long_terms_that_bypass_the_parser_still_search(backend):
    term = DOCS[-1].body[:1000]
    assert DOCS[-1].id in ids(backend.search(Query(term, ((term,),))))
    junk = "\"'%_!*()" * 200
    assert backend.search(Query(junk, ((junk,),), excludes=(junk,))).total == 0


def test_percent_and_underscore_are_literal(backend):
    assert found(backend, '"50%_"') == {6}
    assert found(backend, "%_") == {6}


def test_removed_articles_are_not_found(backend):
    doc = HANDMADE[0]
    backend.remove([doc.id])
    try:
        assert found(backend, "城市群") == set()
    finally:
        backend.index([doc])
    assert found(backend, "城市群") == {1}
    assert len(ids(backend.search(parse("城市群"), per_page=100))) == len(brute("城市群"))


def test_no_terms_no_filters_is_an_empty_page(backend):
    assert backend.search(parse("   ")).total == 0


# -- stories -------------------------------------------------------------------------------


def test_copies_of_one_story_are_one_entry(backend):
    backend.set_story([2, 6], 2)  # 高铁 is in both
    try:
        page = backend.search(parse("高铁"), per_page=100)
        hits = {h.article_id: h for h in page.hits}
        assert 2 in hits and 6 not in hits
        assert hits[2].copies == 1
        assert page.total == len(brute("高铁")) - 1
        # a copy that alone matches is shown; excluding the original shows the copy
        assert found(backend, "体育场馆") == {6}
        assert found(backend, "高铁", exclude_ids=(2,)) == {6}
        assert backend.search(parse("高铁"), exclude_ids=(2,)).hits[0].copies == 0
    finally:
        backend.set_story([2], 2)
        backend.set_story([6], 6)
    assert {2, 6} <= found(backend, "高铁")


def test_the_original_stands_for_its_story_whichever_ranks_first(backend):
    backend.set_story([1, 2], 1)
    try:
        page = backend.search(parse("category:国内 before:2024-03-01"), order="time")
        assert ids(page) == [1]  # 2 is newer and comes first, but 1 is the original
        assert page.hits[0].copies == 1
        assert page.total == 1
    finally:
        backend.set_story([2], 2)
