"""SQLite: one- and two-character terms are found in a table of each article's distinct
characters and pairs, without positions (``search_keys``), in place of the prefix indexes of
``search_fts``, which held a position for every character twice over; ``search_fts`` is made
again without them and both are filled from the articles already indexed. A catalogue whose
index an earlier migration already made this way is left as it is. PostgreSQL: nothing."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def rebuild(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from kuaizhao.archive.searching import backend_for
    from kuaizhao.search.sqlite import SqliteSearch

    if schema_editor.connection.vendor == "sqlite":
        engine = backend_for(schema_editor.connection)
        assert isinstance(engine, SqliteSearch)
        engine.add_keys()


class Migration(migrations.Migration):
    dependencies = [("archive", "0009_search_titles")]
    # Backwards: nothing to undo; the index is the code's, whichever its schema.
    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
