"""Stories: each article's MinHash signature and story, the LSH band keys that find copies at
ingest, and the story in the search index (results show one entry per story). Articles
already in the catalogue are grouped here, in capture order, as ingest would have."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

SEARCH_STORY_COLUMN = {
    "sqlite": "ALTER TABLE search_doc ADD COLUMN story INTEGER",
    "postgresql": "ALTER TABLE search_doc ADD COLUMN IF NOT EXISTS story bigint",
}


def _has_story_column(schema_editor: BaseDatabaseSchemaEditor) -> bool:
    db = schema_editor.connection
    with db.cursor() as cursor:
        columns = db.introspection.get_table_description(cursor, "search_doc")
    return any(column.name == "story" for column in columns)


def group(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from kuaizhao.archive.searching import Stories, backend_for
    from kuaizhao.search import stories

    vendor = schema_editor.connection.vendor
    if not _has_story_column(schema_editor):  # an index made by 0004 before it had stories
        schema_editor.execute(SEARCH_STORY_COLUMN[vendor])
    if vendor == "postgresql":  # keeps the planner on the index (0007 replaces the function)
        schema_editor.execute(
            "DO $$ BEGIN IF to_regprocedure('search_grams(text)') IS NOT NULL THEN "
            "ALTER FUNCTION search_grams(text) COST 100000; END IF; END $$"
        )
    article_model = apps.get_model("archive", "Article")
    engine = backend_for(schema_editor.connection)
    grouping = Stories(engine, article_model, apps.get_model("archive", "StoryKey"))
    fields = ("id", "title", "body_text", "source", "repost_from", "first_captured_at")
    articles = (
        article_model.objects.select_related("outlet")
        .only(*fields, "story", "outlet__name")
        .order_by("first_captured_at", "id")
    )
    for article in articles.iterator(chunk_size=500):
        signature = stories.signature(f"{article.title}\n{article.body_text}")
        article.minhash = stories.pack(signature)
        article.save(update_fields=["minhash"])
        grouping.assign(article, signature)
        engine.set_story([article.pk], article.story)


class Migration(migrations.Migration):
    dependencies = [("archive", "0004_search_index")]
    operations = [
        migrations.AddField(
            model_name="article",
            name="minhash",
            field=models.BinaryField(default=b"", editable=False),
        ),
        migrations.AddField(
            model_name="article",
            name="story",
            field=models.BigIntegerField(db_index=True, null=True),
        ),
        migrations.CreateModel(
            name="StoryKey",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.BigIntegerField(db_index=True)),
                (
                    "article",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="archive.article",
                    ),
                ),
            ],
        ),
        migrations.RunPython(group, migrations.RunPython.noop),
    ]
