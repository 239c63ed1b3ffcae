"""The search index of kuaizhao.search (one schema per database), filled from the articles
already in the catalogue; on SQLite it replaces the trigram FTS5 table of 0002."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from kuaizhao.search.document import Doc
from kuaizhao.search.schema import drop_sql, schema_sql

OLD_SQLITE_INDEX = [
    "DROP TRIGGER IF EXISTS archive_article_fts_au",
    "DROP TRIGGER IF EXISTS archive_article_fts_ad",
    "DROP TRIGGER IF EXISTS archive_article_fts_ai",
    "DROP TABLE IF EXISTS archive_article_fts",
]
BATCH = 2000


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from kuaizhao.archive.searching import backend_for

    vendor = schema_editor.connection.vendor
    for sql in schema_sql(vendor):
        schema_editor.execute(sql)
    if vendor == "sqlite":
        for sql in OLD_SQLITE_INDEX:
            schema_editor.execute(sql)
    engine = backend_for(schema_editor.connection)
    articles = apps.get_model("archive", "Article").objects.order_by("id")
    fields = ("id", "title", "body_text", "published_at", "category", "source")
    last = 0
    while batch := list(articles.filter(id__gt=last).values_list(*fields)[:BATCH]):
        engine.index(Doc(*row) for row in batch)
        last = batch[-1][0]


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for sql in drop_sql(schema_editor.connection.vendor):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("archive", "0003_article_versions")]
    operations = [migrations.RunPython(create, drop)]
