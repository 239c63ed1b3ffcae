"""Full-text index of articles (SQLite FTS5, trigram tokenizer, external content).

The trigram tokenizer finds any substring of three or more characters, so a Chinese word
is never missed because a segmenter glued it into a longer one. Shorter queries are
answered by a scan. Migration 0004 replaced this index with kuaizhao.search.sqlite.
"""

from collections.abc import Callable

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

CREATE = [
    """CREATE VIRTUAL TABLE archive_article_fts USING fts5(
        title, body_text, content='archive_article', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER archive_article_fts_ai AFTER INSERT ON archive_article BEGIN
        INSERT INTO archive_article_fts(rowid, title, body_text)
        VALUES (new.id, new.title, new.body_text);
    END""",
    """CREATE TRIGGER archive_article_fts_ad AFTER DELETE ON archive_article BEGIN
        INSERT INTO archive_article_fts(archive_article_fts, rowid, title, body_text)
        VALUES ('delete', old.id, old.title, old.body_text);
    END""",
    """CREATE TRIGGER archive_article_fts_au AFTER UPDATE OF title, body_text ON archive_article
    BEGIN
        INSERT INTO archive_article_fts(archive_article_fts, rowid, title, body_text)
        VALUES ('delete', old.id, old.title, old.body_text);
        INSERT INTO archive_article_fts(rowid, title, body_text)
        VALUES (new.id, new.title, new.body_text);
    END""",
]
DROP = [
    "DROP TRIGGER IF EXISTS archive_article_fts_au",
    "DROP TRIGGER IF EXISTS archive_article_fts_ad",
    "DROP TRIGGER IF EXISTS archive_article_fts_ai",
    "DROP TABLE IF EXISTS archive_article_fts",
]


def _run(statements: list[str]) -> Callable[[StateApps, BaseDatabaseSchemaEditor], None]:
    def run(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.vendor != "sqlite":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("archive", "0001_catalogue")]
    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
