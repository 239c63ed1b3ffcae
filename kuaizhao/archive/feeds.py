"""Atom feeds: the newest articles of a category, and of an outlet."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from kuaizhao.archive.models import Article, Outlet
from kuaizhao.lib.outlets import CATEGORIES
from kuaizhao.takedown import visibility

FEED_SIZE = 50
_NAMES = dict(CATEGORIES)


def _newest(articles: QuerySet[Article]) -> list[Article]:
    ordered = visibility.public(articles).select_related("outlet").order_by("-published_at", "-id")
    return list(ordered[:FEED_SIZE])


class _ArticleFeed(Feed[Article, Any]):
    """One entry per article: title, summary, snapshot link, publish time, source."""

    feed_type = Atom1Feed

    def item_title(self, item: Article) -> str:
        return item.title

    def item_description(self, item: Article) -> str:
        return item.summary

    def item_link(self, item: Article) -> str:
        return reverse("snapshot", args=[item.id])

    def item_pubdate(self, item: Article) -> datetime | None:
        return item.published_at

    def item_updateddate(self, item: Article) -> datetime:
        return item.last_captured_at

    def item_author_name(self, item: Article) -> str:
        return item.source


class CategoryFeed(_ArticleFeed):
    def get_object(self, request: HttpRequest, slug: str) -> str:
        if slug not in _NAMES:
            raise Http404("没有这个类别")
        return slug

    def title(self, obj: str) -> str:
        return f"{_NAMES[obj]} · 资讯快照"

    def link(self, obj: str) -> str:
        return reverse("category", args=[obj])

    def subtitle(self, obj: str) -> str:
        return f"快照存档中最新的{_NAMES[obj]}资讯"

    def items(self, obj: str) -> list[Article]:
        return _newest(Article.objects.filter(category=_NAMES[obj]))


class OutletFeed(_ArticleFeed):
    def get_object(self, request: HttpRequest, slug: str) -> Outlet:
        return get_object_or_404(Outlet, slug=slug)

    def title(self, obj: Outlet) -> str:
        return f"{obj.name} · 资讯快照"

    def link(self, obj: Outlet) -> str:
        return reverse("outlet", args=[obj.slug])

    def subtitle(self, obj: Outlet) -> str:
        return f"快照存档中最新采集自{obj.name}的资讯"

    def items(self, obj: Outlet) -> list[Article]:
        return _newest(Article.objects.filter(outlet=obj))
