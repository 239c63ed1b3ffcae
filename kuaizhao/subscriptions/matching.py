"""Matching at ingest: the catalogue's ``article_saved`` signal in, ``Match`` rows out.

Each process keeps one ``Percolator`` of every follow. A follow added or removed anywhere
bumps the ``Generation`` counter; the next article this process matches notices (one query
by primary key) and brings its index up to date: new follows by id, removed ones by the ids
that are gone. With no follow at all the hook costs that one query.
"""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import connections, transaction
from django.db.models import F, QuerySet

from kuaizhao.archive import searching
from kuaizhao.archive.models import Article
from kuaizhao.search.query import QueryError
from kuaizhao.subscriptions.models import Follow, Generation, Match
from kuaizhao.subscriptions.percolate import Doc, Percolator, spec
from kuaizhao.takedown.visibility import public

log = logging.getLogger(__name__)
GENERATION = 1
LEARN_FROM = 200
FREEZE_FROM = 10_000


@dataclass
class _State:
    generation: int = -1
    ids: set[int] = field(default_factory=set)
    percolator: Percolator = field(default_factory=Percolator)


_state = _State()


def bump() -> None:
    """Tell every process that the follows changed."""
    updated = Generation.objects.filter(pk=GENERATION).update(counter=F("counter") + 1)
    if not updated:
        Generation.objects.get_or_create(pk=GENERATION, defaults={"counter": 1})


def _generation() -> int:
    # Raw: ingest asks this for every article it saves, and the ORM's building of the query
    # cost several times the query.
    db = connections[Generation.objects.db]
    table = db.ops.quote_name(Generation._meta.db_table)
    with db.cursor() as cursor:
        cursor.execute(f"SELECT counter FROM {table} WHERE id = %s", [GENERATION])
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] else 0


def percolator() -> Percolator:
    """This process's index of the follows, brought up to date."""
    generation = _generation()
    if generation == _state.generation:
        return _state.percolator
    current = set(Follow.objects.values_list("id", flat=True))
    perc = _state.percolator
    for gone in _state.ids - current:
        perc.remove(gone)
    newest = max(_state.ids, default=0)
    added = Follow.objects.filter(id__gt=newest).values_list("id", "kind", "value")
    fresh = [(follow, kind, value) for follow, kind, value in added.iterator()]
    for follow, kind, value in fresh:
        try:
            perc.add(follow, spec(kind, value), rebuild=False)
        except (QueryError, ValueError):
            log.warning("follow %s: cannot match %s %r", follow, kind, value)
    if perc.pending and not _state.ids:  # first load: fit the keys to what articles say
        recent = Article.objects.select_related("outlet").order_by("-id")[:LEARN_FROM]
        perc.learn(document(a) for a in recent)
        _freeze(perc)
    elif len(perc.pending) > perc.rebuild_after:  # until then new queries are checked alone
        perc.rebuild()
        _freeze(perc)
    _state.ids = current
    _state.generation = generation
    return perc


def _freeze(perc: Percolator) -> None:
    """A large index lives as long as the process: keep the garbage collector from walking
    its objects again and again (that showed as pauses of 10 ms and more per article)."""
    if len(perc) >= FREEZE_FROM:
        gc.freeze()


def reset() -> None:
    """Forget this process's index (tests; a new database)."""
    global _state
    _state = _State()


def story_of(article: Article) -> tuple[int, frozenset[int]]:
    """The story's id (its original's) and the ids of every article in it."""
    original = searching.story_original(article)
    members = {article.id, original.id, *(copy.id for copy in searching.copies(article))}
    return original.id, frozenset(members)


def document(article: Article, stories: frozenset[int] = frozenset()) -> Doc:
    outlet = article.outlet.slug if article.outlet_id and article.outlet else ""
    return Doc.of(
        article.title,
        article.body_text,
        category=article.category,
        outlet=outlet,
        source=article.source,
        published_at=article.published_at,
        stories=stories,
    )


def match(article: Article) -> set[int]:
    """The ids of the follows ``article`` matches."""
    perc = percolator()
    if not len(perc):
        return set()
    stories = story_of(article)[1] if perc.has_stories else frozenset({article.id})
    return perc.match(document(article, stories))


def visible(articles: QuerySet[Article]) -> QuerySet[Article]:
    return public(articles)


def record(article: Article, follow_ids: set[int], new_version: bool) -> list[Match]:
    """Record what ``article`` means to the owners of ``follow_ids``; returns the new rows."""
    follows = list(Follow.objects.filter(id__in=follow_ids).order_by("id"))
    if not follows or not visible(Article.objects.filter(id=article.id)).exists():
        return []
    story, members = story_of(article)
    users = {f.user_id for f in follows}
    told = set(
        Match.objects.filter(user_id__in=users, kind="new", article_id__in=members).values_list(
            "user_id", flat=True
        )
    )
    version = article.versions.count()
    rows: dict[tuple[int, str], Match] = {}
    for follow in follows:
        if follow.kind == "story":
            kind = "edit" if new_version else "coverage"
            key = f"edit:{article.id}:{version}" if new_version else f"coverage:{article.id}"
        elif follow.user_id in told:
            continue
        else:
            kind, key = "new", f"story:{story}"
        rows.setdefault(
            (follow.user_id, key),
            Match(
                user_id=follow.user_id,
                follow=follow,
                article=article,
                story=story,
                kind=kind,
                key=key,
                version=version,
            ),
        )
    Match.objects.bulk_create(rows.values(), ignore_conflicts=True)
    return list(rows.values())


def on_article_saved(
    sender: Any, article: Article, created: bool, new_version: bool, **kwargs: Any
) -> None:
    """The ``article_saved`` receiver. A failure is logged: it never stops an ingest."""
    try:
        hits = match(article)
        if hits:
            with transaction.atomic():
                record(article, hits, new_version)
    except Exception:
        log.exception("matching article %s against the follows failed", article.pk)
