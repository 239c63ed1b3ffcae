"""Creating and describing follows, shared by the pages, the API and the command line."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from kuaizhao.archive.models import Article, Outlet
from kuaizhao.lib.outlets import CATEGORIES
from kuaizhao.search.query import QueryError
from kuaizhao.subscriptions import matching
from kuaizhao.subscriptions.models import Follow
from kuaizhao.subscriptions.percolate import compile_query

MAX_FOLLOWS = 200
MAX_ID = 2**63 - 1
CATEGORY_BY_SLUG = dict(CATEGORIES)
CATEGORY_NAMES = set(CATEGORY_BY_SLUG.values())


class FollowError(ValueError):
    """The follow cannot be made; the message says why, for the reader."""


def normalize(kind: str, value: str) -> tuple[str, str, str]:
    """(kind, stored value, label) for what a reader asked to follow, or FollowError."""
    value = " ".join(str(value).split())
    if kind == "category":
        name = CATEGORY_BY_SLUG.get(value, value)
        if name not in CATEGORY_NAMES:
            raise FollowError("没有这个类别")
        return kind, name, name
    if kind == "outlet":
        outlet = Outlet.objects.filter(slug=value).first()
        if outlet is None:
            raise FollowError("没有这个媒体")
        return kind, outlet.slug, outlet.name
    if kind == "query":
        try:
            compile_query(value)
        except QueryError as exc:
            raise FollowError(str(exc)) from None
        return kind, value, value
    if kind == "story":
        known = value.isdigit() and int(value) <= MAX_ID
        # Only what the public may see: a taken-down article must not be named by its id.
        shown = matching.visible(Article.objects.all())
        article = shown.filter(id=int(value)).first() if known else None
        if article is None:
            raise FollowError("没有这篇快照")
        original, _ = matching.story_of(article)
        title = shown.filter(id=original).values_list("title", flat=True).first()
        return kind, str(original), title or article.title
    raise FollowError("不能关注这一类内容")


def create(user: Any, kind: str, value: str) -> tuple[Follow, bool]:
    """The follow (made now, or the existing one) and whether it is new."""
    kind, value, label = normalize(kind, value)
    existing = Follow.objects.filter(user=user, kind=kind, value=value).first()
    if existing is not None:
        return existing, False
    if Follow.objects.filter(user=user).count() >= MAX_FOLLOWS:
        raise FollowError(f"最多关注 {MAX_FOLLOWS} 项")
    try:
        with transaction.atomic():
            follow = Follow.objects.create(user=user, kind=kind, value=value, label=label[:300])
    except IntegrityError:
        return Follow.objects.get(user=user, kind=kind, value=value), False
    return follow, True


def as_json(follow: Follow) -> dict[str, Any]:
    return {
        "id": follow.id,
        "kind": follow.kind,
        "value": follow.value,
        "label": follow.label,
        "created_at": follow.created_at.isoformat(),
    }
