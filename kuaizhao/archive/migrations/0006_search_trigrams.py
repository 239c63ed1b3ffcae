"""SQLite: the search index becomes character trigrams (``search_fts``, with one- and
two-character prefix indexes) and a table of words for ranking (``search_words``), in place of
one table of character pairs and words; it is rebuilt from the article table, each article in
its story. A catalogue whose index 0004 already made this way is left as it is. PostgreSQL:
nothing (its index is unchanged here)."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from kuaizhao.search.document import Doc
from kuaizhao.search.schema import schema_sql

BATCH = 2000


def _has_table(schema_editor: BaseDatabaseSchemaEditor, name: str) -> bool:
    db = schema_editor.connection
    with db.cursor() as cursor:
        return name in db.introspection.table_names(cursor)


def rebuild(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from kuaizhao.archive.searching import backend_for

    if schema_editor.connection.vendor != "sqlite" or _has_table(schema_editor, "search_words"):
        return
    # The old table is dropped whole: a contentless FTS5 table forgets a row only by its
    # tokens, and the old tokens are pairs. search_doc is refilled with the index.
    schema_editor.execute("DROP TABLE IF EXISTS search_fts")
    schema_editor.execute("DROP TABLE IF EXISTS search_titles")
    schema_editor.execute("DELETE FROM search_doc")
    for sql in schema_sql("sqlite"):
        schema_editor.execute(sql)
    engine = backend_for(schema_editor.connection)
    articles = apps.get_model("archive", "Article").objects.order_by("id")
    fields = ("id", "title", "body_text", "published_at", "category", "source", "story")
    last = 0
    while batch := list(articles.filter(id__gt=last).values_list(*fields)[:BATCH]):
        engine.index(Doc(*row) for row in batch)
        last = batch[-1][0]
    engine.optimize()


class Migration(migrations.Migration):
    dependencies = [("archive", "0005_stories")]
    # Backwards: nothing to undo; the index of 0004 is the code's, whichever its schema.
    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
