"""The tables and indexes each backend needs beside an ``archive_article``-shaped table
(``id``, ``title``, ``body_text``: the original text shown in hits and snippets).

``schema_sql(vendor)`` is what a migration runs (forwards) and ``drop_sql(vendor)`` undoes it;
tests and the benchmark run the same statements on raw connections. The index is filled by
the backend's ``index()`` (ingest calls it after saving an article), not by triggers: the
folded text, the character pairs and the jieba words are computed in Python, identically for
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
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
        title, body, words, content='', prefix='1', columnsize=1,
        tokenize="{SQLITE_TOKENIZER}")""",
]
SQLITE_DROP = ["DROP TABLE IF EXISTS search_fts", "DROP TABLE IF EXISTS search_doc"]

TEXT = "(title || E'\\n' || body)"
"""Title and body as one text for the substring indexes; no folded term holds a line break,
so no match can span the seam."""

POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE TABLE IF NOT EXISTS search_doc (
        id bigint PRIMARY KEY,
        published bigint,
        category text NOT NULL DEFAULT '',
        source text NOT NULL DEFAULT '',
        story bigint,
        title text NOT NULL,
        body text NOT NULL,
        words tsvector NOT NULL)""",
    # Every character and every pair of adjacent characters of t (duplicates are harmless:
    # GIN keeps each key once). Linear: substr() on multibyte text would be quadratic.
    # The cost keeps the planner on the index: at COST 1000 it chose to compute the function
    # on each row of an id slice for a pair in 85% of articles (10 s instead of 20 ms).
    """CREATE OR REPLACE FUNCTION search_grams(t text) RETURNS text[]
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 100000 AS $$
        SELECT u || coalesce((
            SELECT array_agg(c || n) FROM (
                SELECT c, lead(c) OVER (ORDER BY i) AS n
                FROM unnest(u) WITH ORDINALITY AS x(c, i)) AS s
            WHERE n IS NOT NULL), '{}')
        FROM regexp_split_to_array(t, '') AS u
    $$""",
    f"CREATE INDEX IF NOT EXISTS search_doc_trgm ON search_doc USING gin ({TEXT} gin_trgm_ops)",
    f"CREATE INDEX IF NOT EXISTS search_doc_grams ON search_doc USING gin (search_grams({TEXT}))",
    "CREATE INDEX IF NOT EXISTS search_doc_published ON search_doc (published DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS search_doc_category ON search_doc (category, published DESC)",
]
POSTGRESQL_DROP = [
    "DROP TABLE IF EXISTS search_doc",
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
