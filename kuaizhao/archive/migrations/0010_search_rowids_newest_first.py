"""SQLite: ``search_fts``'s rowids run newest first (an article's rowid is
``kuaizhao.search.sqlite.ROWIDS`` minus its id), so that a query's newest matches are found
walking the doclists forwards. Rowids cannot be renumbered in place, so ``search_fts`` is
rebuilt from the article table, for the articles ``search_doc`` holds (hidden ones stay
out); the ranking tables keep their rowids and are left as they are. PostgreSQL: nothing."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def renumber(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from kuaizhao.archive.searching import backend_for
    from kuaizhao.search.sqlite import SqliteSearch

    if schema_editor.connection.vendor == "sqlite":
        engine = backend_for(schema_editor.connection)
        assert isinstance(engine, SqliteSearch)
        engine.renumber()


class Migration(migrations.Migration):
    dependencies = [("archive", "0009_search_titles")]
    # Backwards: nothing to undo; the index is the code's, whichever its schema.
    operations = [migrations.RunPython(renumber, migrations.RunPython.noop)]
