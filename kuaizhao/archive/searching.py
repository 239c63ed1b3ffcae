"""The catalogue's side of search: the backend for the database in use, keeping its index in
step with the articles, and an article's related coverage."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q

from kuaizhao.archive.models import Article
from kuaizhao.search.base import Hit, Order, Page
from kuaizhao.search.document import Doc
from kuaizhao.search.postgres import PostgresSearch
from kuaizhao.search.query import Query, parse
from kuaizhao.search.related import key_phrases
from kuaizhao.search.sqlite import SqliteSearch

RELATED_LIMIT = 9
Backend = SqliteSearch | PostgresSearch


def backend_for(db: BaseDatabaseWrapper) -> Backend:
    """The search backend over a Django database connection (its raw DB-API connection)."""
    db.ensure_connection()
    raw: Any = db.connection
    if db.vendor == "sqlite":
        return SqliteSearch(raw)
    if db.vendor == "postgresql":
        return PostgresSearch(raw)
    raise RuntimeError(f"no search backend for the {db.vendor} database")


def backend() -> Backend:
    return backend_for(connection)


def document(article: Article) -> Doc:
    return Doc(
        article.pk,
        article.title,
        article.body_text,
        article.published_at,
        article.category,
        article.source,
    )


def save(article: Article) -> None:
    """Save an article with what search derives from it, and re-index it (the caller's
    transaction covers both, so the index never disagrees with the catalogue)."""
    article.key_phrases = key_phrases(article.title, article.body_text)
    engine = backend()
    if article.pk is not None:
        engine.remove([article.pk])  # before the row's text changes: see SqliteSearch.remove
    article.save()
    engine.index([document(article)])


def clear() -> None:
    """Empty the index (``reindex`` refills it article by article)."""
    backend().clear()


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
