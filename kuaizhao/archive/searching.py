"""The catalogue's side of search: picks the backend for the database in use and finds an
article's related coverage."""

from __future__ import annotations

import sqlite3

from django.db import connection
from django.db.models import Q

from kuaizhao.archive.models import Article
from kuaizhao.search.base import Hit, Order, Page
from kuaizhao.search.query import Query, parse
from kuaizhao.search.related import key_phrases
from kuaizhao.search.sqlite_fts5 import SqliteFts5Search

RELATED_LIMIT = 9


def backend() -> SqliteFts5Search:
    connection.ensure_connection()
    raw = connection.connection
    if not isinstance(raw, sqlite3.Connection):
        raise RuntimeError(f"no search backend for the {connection.vendor} database yet")
    return SqliteFts5Search(raw)


def prepare(article: Article) -> None:
    """Fill in what search derives from an article, just before ingest saves it."""
    article.key_phrases = key_phrases(article.title, article.body_text)


def search(
    query: Query, *, category: str | None = None, page: int = 1, order: Order = "relevance"
) -> Page:
    return backend().search(query, category=category, page=page, order=order)


def related(article: Article, limit: int = RELATED_LIMIT) -> tuple[str, list[Hit]]:
    """The article's key phrase and the other articles that mention it, best first.

    Copies of the same story (same title, or same title and body) are left out: they are
    not news to a reader who is already reading it.
    """
    same = Q(content_hash=article.content_hash) | Q(title=article.title) | Q(id=article.id)
    copies = tuple(Article.objects.filter(same).values_list("id", flat=True))
    for phrase in article.key_phrases:
        page = backend().search(parse(f'"{phrase}"'), exclude_ids=copies, per_page=limit)
        if page.hits:
            return phrase, page.hits
    return (article.key_phrases[0] if article.key_phrases else ""), []
