"""PostgreSQL: the search index finds terms by integer keys, each distinct character and pair of
adjacent characters of an article's folded text and its block of ids, computed in Python into
``search_doc.grams`` under one GIN index, in place of a pg_trgm index and a GIN index over the
SQL function ``search_grams()``. The keys are filled from ``search_doc``'s own folded title and
body. A catalogue whose index 0004 already made this way keeps its keys. SQLite: nothing."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from kuaizhao.search.postgres import keys
from kuaizhao.search.schema import schema_sql

BATCH = 2000
DROP_OLD = [
    "DROP INDEX IF EXISTS search_doc_trgm",
    "DROP INDEX IF EXISTS search_doc_grams",
    "DROP FUNCTION IF EXISTS search_grams(text)",
]
OLD_TEXT = "(title || E'\\n' || body)"
OLD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE OR REPLACE FUNCTION search_grams(t text) RETURNS text[]
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 100000 AS $$
        SELECT u || coalesce((
            SELECT array_agg(c || n) FROM (
                SELECT c, lead(c) OVER (ORDER BY i) AS n
                FROM unnest(u) WITH ORDINALITY AS x(c, i)) AS s
            WHERE n IS NOT NULL), '{}')
        FROM regexp_split_to_array(t, '') AS u
    $$""",
    f"CREATE INDEX IF NOT EXISTS search_doc_trgm ON search_doc USING gin ({OLD_TEXT} gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS search_doc_grams ON search_doc "
    f"USING gin (search_grams({OLD_TEXT}))",
]


def _has_keys(schema_editor: BaseDatabaseSchemaEditor) -> bool:
    db = schema_editor.connection
    with db.cursor() as cursor:
        columns = db.introspection.get_table_description(cursor, "search_doc")
    return any(column.name == "grams" for column in columns)


def fill(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in DROP_OLD:
        schema_editor.execute(sql)
    if not _has_keys(schema_editor):
        schema_editor.execute(
            "ALTER TABLE search_doc ADD COLUMN grams bigint[] NOT NULL DEFAULT '{}'"
        )
        # Rows first, the index after: one CREATE INDEX is far cheaper than GIN inserts.
        last = 0
        with schema_editor.connection.cursor() as cursor:
            while True:
                cursor.execute(
                    "SELECT id, title, body FROM search_doc WHERE id > %s ORDER BY id LIMIT %s",
                    [last, BATCH],
                )
                rows = cursor.fetchall()
                if not rows:
                    break
                cursor.executemany(
                    "UPDATE search_doc SET grams = %s::bigint[] WHERE id = %s",
                    [(keys(id_, title, body), id_) for id_, title, body in rows],
                )
                last = rows[-1][0]
    for sql in schema_sql("postgresql"):  # the function and the index over the keys
        schema_editor.execute(sql)
    schema_editor.execute("ANALYZE search_doc")


def unfill(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS search_doc_keys")
    schema_editor.execute("ALTER TABLE search_doc DROP COLUMN IF EXISTS grams")
    schema_editor.execute("DROP FUNCTION IF EXISTS search_keys(bigint[])")
    for sql in OLD:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("archive", "0006_search_trigrams")]
    operations = [migrations.RunPython(fill, unfill)]
