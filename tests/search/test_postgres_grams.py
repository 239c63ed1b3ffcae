"""The PostgreSQL keys (each distinct character and character pair as an exact integer) and
migration 0007, which replaces a catalogue's pg_trgm and ``search_grams()`` indexes with them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from kuaizhao.archive import searching
from kuaizhao.archive.models import Article
from kuaizhao.search.postgres import CODE_BITS, block, grams, keys, term_grams, text_of
from kuaizhao.search.query import parse
from tests.search.test_sqlite_fts5 import archive  # noqa: F401  (fixture)


def test_keys_are_exact_and_never_collide() -> None:
    text = text_of("山西中部", "a b\U0010ffff\U0010ffff")
    found = grams(text)
    chars = {k for k in found if k < 1 << CODE_BITS}
    pairs = {k for k in found if k >= 1 << CODE_BITS}
    assert {chr(k) for k in chars} == set(text)
    assert {chr(k >> CODE_BITS) + chr(k & ((1 << CODE_BITS) - 1)) for k in pairs} == {
        text[i : i + 2] for i in range(len(text) - 1)
    }
    assert max(found) < 1 << 63  # a bigint
    assert term_grams("中") == [ord("中")]
    assert term_grams("中部") == [ord("中") << CODE_BITS | ord("部")]
    assert set(term_grams("西中部")) == {ord("西") << CODE_BITS | ord("中"), *term_grams("中部")}
    assert keys(5, "山", "") == [block(5), 10, ord("山"), ord("山") << CODE_BITS | 10]
    assert block(0) == block(16383) == -1 and block(16384) == -2
    for start in range(len(text)):
        for end in range(start + 1, len(text) + 1):
            assert set(term_grams(text[start:end])) <= set(found)


# -- migration 0007 --------------------------------------------------------------------------

OLD_INDEX = __import__("kuaizhao.archive.migrations.0007_search_grams", fromlist=["OLD"])


def _install_old_index() -> None:
    """The index as migrations 0004 to 0006 left it: pg_trgm and search_grams(), no keys."""
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX search_doc_keys")
        cursor.execute("ALTER TABLE search_doc DROP COLUMN grams")
        cursor.execute("DROP FUNCTION search_keys(bigint[])")
        for sql in OLD_INDEX.OLD:
            cursor.execute(sql)


def _migrate() -> None:
    editor = SimpleNamespace(connection=connection, execute=connection.cursor().execute)
    OLD_INDEX.fill(apps, editor)


TERMS = ("高铁", "运营", "航", "城市群", '"大同的高铁新线"', '"。"', "运营 -高铁")


def _found() -> dict[str, list[tuple[int, int]]]:
    pages = {t: searching.search(parse(t)).hits for t in TERMS}
    return {t: [(h.article_id, h.copies) for h in hits] for t, hits in pages.items()}


@pytest.mark.django_db
def test_the_migration_fills_the_keys(archive: dict[str, Article]) -> None:  # noqa: F811
    before = _found()
    assert before["运营"]
    if connection.vendor != "postgresql":
        _migrate()  # nothing to do on SQLite
        assert _found() == before
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, grams FROM search_doc ORDER BY id")
        indexed = cursor.fetchall()
    _install_old_index()
    _migrate()
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, grams FROM search_doc ORDER BY id")
        assert cursor.fetchall() == indexed
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'search_doc' ORDER BY 1")
        names = [r[0] for r in cursor.fetchall()]
        cursor.execute("SELECT to_regprocedure('search_grams(text)')")
        assert cursor.fetchone() == (None,)
    assert "search_doc_keys" in names
    assert "search_doc_trgm" not in names and "search_doc_grams" not in names
    assert _found() == before
    # an article saved again after the migration gets its keys from index()
    searching.save(Article.objects.get(pk=before["运营"][0][0]))
    _migrate()  # a second run finds the keys and leaves them
    assert _found() == before
