"""The catalogue's side of search: the backend for the database in use, keeping its index and
the stories in step with the articles, an article's related coverage and copies, and the
latest articles of a category.

**Stories.** Each article carries its MinHash signature (``Article.minhash``) and sixteen LSH
band keys plus a headline key (``StoryKey``). When ingest saves an article, one indexed lookup
of those keys finds the earlier articles that may be copies of it; their signatures decide
(kuaizhao.search.stories: Jaccard about 0.85, or the 转自/来源 chain at 0.6 with the same
headline). Stories that it joins merge, and every member's ``Article.story`` becomes the id of
the earliest capture among them: the original. Joins are never undone by a later version of
an article (a copy that was edited afterwards stays a copy), so ``reindex``, which replays the
captures in time order, rebuilds the same stories.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.paginator import Page as ListPage
from django.core.paginator import Paginator
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Exists, OuterRef, Q, QuerySet

from kuaizhao.archive.models import Article, StoryKey
from kuaizhao.search import stories
from kuaizhao.search.base import Hit, Order, Page
from kuaizhao.search.document import Doc
from kuaizhao.search.postgres import PostgresSearch
from kuaizhao.search.query import Query, parse
from kuaizhao.search.related import key_phrases
from kuaizhao.search.sqlite import SqliteSearch

RELATED_LIMIT = 9
CANDIDATES_PER_KEY = 500
"""At most this many of the newest articles sharing a band or the headline are compared with a
new article: boilerplate pages and reused headlines (今日要闻) must not cost a scan."""
LATEST_PER_PAGE = 30
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
        article.story,
    )


_HELD: ContextVar[dict[int, Article] | None] = ContextVar("held_index_writes", default=None)


@contextmanager
def held() -> Iterator[None]:
    """Hold the index writes of ``save`` until the end of the block, then make them in one
    go: the last writes of the caller's transaction (ingest's batches).

    On SQLite, a write to an ordinary table after an FTS5 write in the same transaction
    (Django's ``INSERT … RETURNING`` of the next row) flushes each FTS5 table's pending
    terms to a new segment: an article at a time, each segment then merged again. Held,
    a batch becomes one segment per table. An article is indexed as the block leaves it
    (its story as stories last set it); one ``unindex``-ed meanwhile is not indexed.
    """
    if _HELD.get() is not None:  # nested: the outer block indexes
        yield
        return
    held: dict[int, Article] = {}
    token = _HELD.set(held)
    try:
        yield
    finally:
        _HELD.reset(token)
    if not held:
        return
    stories = dict(Article.objects.filter(pk__in=list(held)).values_list("pk", "story"))
    docs = []
    for pk, article in held.items():
        if pk in stories:  # a row deleted meanwhile is not indexed
            article.story = stories[pk]
            docs.append(document(article))
    backend().index(docs)


def save(article: Article) -> None:
    """Save an article with what search derives from it, put it into its story and re-index
    it (the caller's transaction covers all of it, so index, stories and catalogue agree;
    inside ``held``, the index write waits for the end of the block)."""
    article.key_phrases = key_phrases(article.title, article.body_text)
    signature = stories.signature(f"{article.title}\n{article.body_text}")
    article.minhash = stories.pack(signature)
    engine = backend()
    fresh = article.pk is None
    if not fresh:
        engine.remove([article.pk])  # before the row's text changes: see SqliteSearch.remove
    article.save()
    Stories(engine).assign(article, signature, fresh=fresh)
    held = _HELD.get()
    if held is None:
        engine.index([document(article)])
    else:
        held[article.pk] = article


def unindex(ids: list[int]) -> None:
    """Take articles out of the index (and out of a ``held`` block's writes): hidden,
    purged. Call it before their rows are deleted or changed (see SqliteSearch.remove)."""
    if (held := _HELD.get()) is not None:
        for pk in ids:
            held.pop(pk, None)
    backend().remove(ids)


def clear() -> None:
    """Empty the index and the story keys (``reindex`` refills both article by article)."""
    StoryKey.objects.all().delete()
    backend().clear()


# -- stories -------------------------------------------------------------------------------------


class Stories:
    """Story assignment against the catalogue's tables. The models are parameters so that a
    migration can run it with its historical models."""

    def __init__(self, engine: Backend, articles: Any = Article, keys: Any = StoryKey) -> None:
        self.engine = engine
        self.articles = articles
        self.keys = keys

    def _sql(self, model: Any, *fields: str) -> tuple[Any, str, list[str]]:
        """The connection, quoted table and quoted columns of ``model`` for a raw statement
        (ingest runs these for every article: the ORM's query building would cost more
        than the queries)."""
        db = connections[model.objects.db]
        table = db.ops.quote_name(model._meta.db_table)
        columns = [db.ops.quote_name(model._meta.get_field(name).column) for name in fields]
        return db, table, columns

    def _insert_keys(self, pk: int, keys: list[int]) -> None:
        """One multi-row insert of an article's keys (seventeen per article)."""
        db, table, (article_column, key_column) = self._sql(self.keys, "article", "key")
        rows = ", ".join(["(%s, %s)"] * len(keys))
        with db.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({article_column}, {key_column}) VALUES {rows}",
                [value for key in keys for value in (pk, key)],
            )

    def _candidates(self, pk: int, bands: list[int], headline: int) -> tuple[set[int], set[int]]:
        """The other articles sharing one of ``bands`` and those sharing ``headline``, the
        newest ``CANDIDATES_PER_KEY`` of each, in one query."""
        db, table, (article, key) = self._sql(self.keys, "article", "key")
        marks = ", ".join(["%s"] * len(bands))
        sql = (
            f"SELECT 0, a FROM (SELECT DISTINCT {article} AS a FROM {table}"
            f" WHERE {key} IN ({marks}) AND {article} <> %s ORDER BY a DESC LIMIT %s) AS near"
            f" UNION ALL SELECT 1, a FROM (SELECT {article} AS a FROM {table}"
            f" WHERE {key} = %s AND {article} <> %s ORDER BY a DESC LIMIT %s) AS same_title"
        )
        limit = CANDIDATES_PER_KEY
        near: set[int] = set()
        same_title: set[int] = set()
        with db.cursor() as cursor:
            cursor.execute(sql, [*bands, pk, limit, headline, pk, limit])
            for by_title, other in cursor.fetchall():
                (same_title if by_title else near).add(other)
        return near, same_title

    def _set_story(self, pk: int, story: int) -> None:
        db, table, (story_column, id_column) = self._sql(self.articles, "story", "id")
        with db.cursor() as cursor:
            sql = f"UPDATE {table} SET {story_column} = %s WHERE {id_column} = %s"
            cursor.execute(sql, [story, pk])

    @staticmethod
    def story_doc(article: Any) -> stories.StoryDoc:
        return stories.StoryDoc(
            article.pk,
            article.outlet.name if article.outlet_id else "",
            article.title,
            "",  # the signature stands for the text
            article.first_captured_at,
            article.repost_from or article.source,
        )

    def assign(self, article: Any, signature: tuple[int, ...], *, fresh: bool = False) -> None:
        """Put a saved article into its story (see the module docstring); sets
        ``article.story`` and saves it. ``fresh``: the article was just inserted, so it has
        no story keys to replace yet."""
        bands = stories.band_keys(signature)
        headline = stories.title_key(article.title)
        if not fresh:
            self.keys.objects.filter(article_id=article.pk).delete()
        self._insert_keys(article.pk, [*bands, headline])
        near, same_title = self._candidates(article.pk, bands, headline)
        this = self.story_doc(article)
        joined: dict[int, int | None] = {}  # article id -> its story
        chained: tuple[float, int, int | None] | None = None  # the 转自 original, best first
        fields = ("id", "story", "minhash", "title", "source", "repost_from", "first_captured_at")
        candidates = (
            self.articles.objects.filter(pk__in=near | same_title)
            .select_related("outlet")
            .only(*fields, "outlet__name")
            if near or same_title
            else ()  # no query: the common case
        )
        for other in candidates:
            if not other.minhash:
                continue
            value = stories.similarity(signature, stories.unpack(bytes(other.minhash)))
            if other.pk in near and value >= stories.THRESHOLD:
                joined[other.pk] = other.story
            elif other.pk in same_title and value >= stories.CHAIN_THRESHOLD:
                that = self.story_doc(other)
                if stories.names_source(this, that):
                    if chained is None or (value, -other.pk) > chained[:2]:
                        chained = (value, -other.pk, other.story)
                elif stories.names_source(that, this):
                    joined[other.pk] = other.story
        if chained is not None:
            joined[-chained[1]] = chained[2]
        labels = {story for story in joined.values() if story is not None}
        if article.story is not None:
            labels.add(article.story)
        members = {article.pk: (article.first_captured_at, article.story)}
        if labels or joined:  # else a story of its own: the common case, no query
            rows = self.articles.objects.filter(Q(story__in=labels) | Q(pk__in=list(joined)))
            for pk, first, story in rows.values_list("pk", "first_captured_at", "story"):
                members[pk] = (first, story)
        original = min(members, key=lambda pk: (members[pk][0], pk))
        moved = [pk for pk, (_, story) in members.items() if story != original and pk != article.pk]
        if moved:
            self.articles.objects.filter(pk__in=moved).update(story=original)
            self.engine.set_story(moved, original)
        if article.story != original:
            article.story = original
            self._set_story(article.pk, original)


def story_members(article: Article) -> QuerySet[Article]:
    """Every article of ``article``'s story, itself included, earliest capture first."""
    members = Article.objects.filter(pk=article.pk)
    if article.story is not None:
        members = Article.objects.filter(story=article.story)
    return members.order_by("first_captured_at", "id")


def copies(article: Article) -> list[Article]:
    """The other articles of the same story (syndicated copies), earliest capture first.
    Hidden ones included: callers showing them filter with ``visibility.public``."""
    return list(story_members(article).exclude(pk=article.pk).select_related("outlet"))


def story_original(article: Article) -> Article:
    """The earliest known capture of the article's story (the article itself when first)."""
    first = story_members(article).select_related("outlet").first()
    return first if first is not None else article


# -- search, related, latest ---------------------------------------------------------------------


def search(
    query: Query, *, category: str | None = None, page: int = 1, order: Order = "relevance"
) -> Page:
    """One entry per story (``Hit.copies`` counts the folded copies); hidden articles are not
    in the index."""
    return backend().search(query, category=category, page=page, order=order)


def related(article: Article, limit: int = RELATED_LIMIT) -> tuple[str, list[Hit]]:
    """The article's key phrase and the other stories that mention it, best first, one entry
    per story; the article's own story (itself and its copies) is left out."""
    own = tuple(story_members(article).values_list("id", flat=True))
    for phrase in article.key_phrases:
        page = backend().search(parse(f'"{phrase}"'), exclude_ids=own, per_page=limit)
        if page.hits:
            return phrase, page.hits
    return (article.key_phrases[0] if article.key_phrases else ""), []


def first_of_story(articles: QuerySet[Article]) -> QuerySet[Article]:
    """``articles`` without later copies: an article stays unless an earlier capture of its
    story is among ``articles`` too, so each story appears once, by its earliest member."""
    earlier = articles.filter(story=OuterRef("story")).filter(
        Q(first_captured_at__lt=OuterRef("first_captured_at"))
        | Q(first_captured_at=OuterRef("first_captured_at"), pk__lt=OuterRef("pk"))
    )
    return articles.filter(Q(story__isnull=True) | ~Exists(earlier))


def latest_in_category(
    category: str,
    *,
    page: int | str = 1,
    per_page: int = LATEST_PER_PAGE,
    exclude: Article | None = None,
) -> ListPage[Article]:
    """更多关于<类别>的资讯 and the category pages: newest first, one entry per story
    (``Article.lead`` is the first sentence to show); ``exclude`` leaves out an article's own
    story. Hidden articles are left out (``visibility.public``): a story whose earliest copy
    is hidden is shown by its next one. A page beyond the last gives the last."""
    return Paginator(_category_listing(category, exclude), per_page).get_page(page)


def newest_in_category(
    category: str, limit: int, *, exclude: Article | None = None
) -> list[Article]:
    """The first ``limit`` entries of ``latest_in_category`` without counting the whole
    category: the snapshot page and the home page show a few and need no pager."""
    return list(_category_listing(category, exclude)[:limit])


def _category_listing(category: str, exclude: Article | None) -> QuerySet[Article]:
    from kuaizhao.takedown import visibility

    public = visibility.public(Article.objects.filter(category=category))
    if exclude is not None:
        public = public.exclude(pk__in=story_members(exclude).values("pk"))
    return first_of_story(public).select_related("outlet").order_by("-published_at", "-id")
