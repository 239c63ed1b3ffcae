"""The tables and indexes each backend needs beside an ``archive_article``-shaped table
(``id``, ``title``, ``body_text``: the original text shown in hits and snippets).

``schema_sql(vendor)`` is what a migration runs (forwards) and ``drop_sql(vendor)`` undoes it;
tests and the benchmark run the same statements on raw connections. The index is filled by
the backend's ``index()`` (ingest calls it after saving an article), not by triggers: the
folded text, the character trigrams and the jieba words are computed in Python, identically for
both databases.
"""

from __future__ import annotations

from typing import Literal

Vendor = Literal["sqlite", "postgresql"]

SQLITE_TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* M* N* P* S* Z* C*' separators ' '"
"""Every character is a token character except the space, which separates tokens."""

SQLITE = [
    """CREATE TABLE IF NOT EXISTS search_doc (
        id INTEGER PRIMARY KEY,
        published INTEGER,
        category TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT '',
        story INTEGER)""",
    "CREATE INDEX IF NOT EXISTS search_doc_published ON search_doc (published DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS search_doc_category ON search_doc (category, published DESC)",
    # Trigrams; the prefix indexes (lengths in characters) answer one- and two-character terms.
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
        title, body, content='', prefix='1 2', columnsize=0,
        tokenize="{SQLITE_TOKENIZER}")""",
    # Title trigrams again, for ranking only: a title hit is looked up in the titles' short
    # doclists, not in search_fts's, which hold every body's positions too.
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS search_titles USING fts5(
        title, content='', prefix='1 2', columnsize=0,
        tokenize="{SQLITE_TOKENIZER}")""",
    # jieba words, for ranking only: a table of their own, outside the prefix indexes.
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS search_words USING fts5(
        words, content='', columnsize=0, tokenize="{SQLITE_TOKENIZER}")""",
]
SQLITE_DROP = [
    "DROP TABLE IF EXISTS search_words",
    "DROP TABLE IF EXISTS search_titles",
    "DROP TABLE IF EXISTS search_fts",
    "DROP TABLE IF EXISTS search_doc",
]

TEXT = "(title || E'\\n' || body)"
"""Title and body as one text, as the keys see them; no folded term holds a line break, so no
match can span the seam."""

POSTGRESQL = [
    """CREATE TABLE IF NOT EXISTS search_doc (
        id bigint PRIMARY KEY,
        published bigint,
        category text NOT NULL DEFAULT '',
        source text NOT NULL DEFAULT '',
        story bigint,
        title text NOT NULL,
        body text NOT NULL,
        words tsvector NOT NULL,
        grams bigint[] NOT NULL DEFAULT '{}')""",
    # grams: the distinct characters and character pairs of TEXT as exact integer keys and
    # the key of the article's block of ids, computed in Python (kuaizhao.search.postgres.keys);
    # array_ops needs no extension. The index is over search_keys(grams), which returns its
    # argument and is declared costly: the planner then never tests the keys of a row the
    # index did not return (a test detoasts some 10 KB; a key in every article made the
    # cost of the index and of a row-by-row test alike).
    """CREATE OR REPLACE FUNCTION search_keys(k bigint[]) RETURNS bigint[]
        LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 100000 AS $$
        BEGIN RETURN k; END $$""",
    "CREATE INDEX IF NOT EXISTS search_doc_keys ON search_doc USING gin (search_keys(grams))",
    "CREATE INDEX IF NOT EXISTS search_doc_published ON search_doc (published DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS search_doc_category ON search_doc (category, published DESC)",
]
POSTGRESQL_DROP = [
    "DROP TABLE IF EXISTS search_doc",
    "DROP FUNCTION IF EXISTS search_keys(bigint[])",
    # the function behind the character index before migration 0007
    "DROP FUNCTION IF EXISTS search_grams(text)",
]


def schema_sql(vendor: str) -> list[str]:
    """Statements that create the search index for ``vendor`` (Django's connection.vendor)."""
    if vendor == "sqlite":
        return list(SQLITE)
    if vendor == "postgresql":
        return list(POSTGRESQL)
    raise ValueError(f"no search backend for {vendor!r}")


def drop_sql(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return list(SQLITE_DROP)
    if vendor == "postgresql":
        return list(POSTGRESQL_DROP)
    raise ValueError(f"no search backend for {vendor!r}")
