"""SQLite: ``search_fts``'s rowids run newest first (an article's rowid is
``kuaizhao.search.sqlite.ROWIDS`` minus its id), so that a query's newest matches are found
walking the doclists forwards. Rowids cannot be renumbered in place, so the index is rebuilt
from the article table: the articles it held (hidden ones stay out), each in its story. It
takes about as long as indexing the archive did. PostgreSQL: nothing."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from kuaizhao.search.document import Doc
from kuaizhao.search.schema import schema_sql

BATCH = 2000
FTS_TABLES = ("search_fts", "search_titles", "search_words")


def rebuild(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from kuaizhao.archive.searching import backend_for

    if schema_editor.connection.vendor != "sqlite":
        return
    # The FTS5 tables are dropped whole (a contentless table forgets a row only by its tokens
    # and rowid); the old search_doc is kept aside for the ids it holds.
    for sql in [
        *(f"DROP TABLE IF EXISTS {table}" for table in FTS_TABLES),
        "DROP INDEX IF EXISTS search_doc_published",
        "DROP INDEX IF EXISTS search_doc_category",
        "ALTER TABLE search_doc RENAME TO search_doc_before",
        *schema_sql("sqlite"),
    ]:
        schema_editor.execute(sql)
    engine = backend_for(schema_editor.connection)
    article = apps.get_model("archive", "Article")
    fields = ("id", "title", "body_text", "published_at", "category", "source", "story")
    last = None
    with schema_editor.connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT id FROM search_doc_before WHERE %s IS NULL OR id < %s "
                "ORDER BY id DESC LIMIT %s",
                [last, last, BATCH],
            )
            ids = [pk for (pk,) in cursor.fetchall()]
            if not ids:
                break
            rows = article.objects.filter(id__in=ids).values_list(*fields)
            engine.index(Doc(*row) for row in rows)
            last = ids[-1]
    schema_editor.execute("DROP TABLE search_doc_before")
    engine.optimize()


class Migration(migrations.Migration):
    dependencies = [("archive", "0009_search_titles")]
    # Backwards: nothing to undo; the index is the code's, whichever its schema.
    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
