"""SQLite: the titles' trigrams get an FTS5 table of their own (``search_titles``), so that
ranking looks a title hit up in short doclists; filled from the articles already indexed. A
catalogue whose index 0004 already made with it is left as it is. PostgreSQL: nothing."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def fill(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from kuaizhao.archive.searching import backend_for
    from kuaizhao.search.sqlite import SqliteSearch

    if schema_editor.connection.vendor == "sqlite":
        engine = backend_for(schema_editor.connection)
        assert isinstance(engine, SqliteSearch)
        engine.add_titles()


class Migration(migrations.Migration):
    dependencies = [("archive", "0008_version_missing_page")]
    # Backwards: nothing to undo; the index is the code's, whichever its schema.
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
