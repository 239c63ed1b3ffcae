"""Atom feeds: the newest articles of a category."""

from __future__ import annotations

from datetime import datetime

from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from kuaizhao.archive.models import Article
from kuaizhao.lib.outlets import CATEGORIES

FEED_SIZE = 50
_NAMES = dict(CATEGORIES)


class CategoryFeed(Feed[Article, str]):
    feed_type = Atom1Feed

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
        articles = Article.objects.filter(category=_NAMES[obj]).order_by("-published_at", "-id")
        return list(articles[:FEED_SIZE])

    def item_title(self, item: Article) -> str:
        return item.title

    def item_description(self, item: Article) -> str:
        return item.summary

    def item_link(self, item: Article) -> str:
        return reverse("snapshot", args=[item.id])

    def item_pubdate(self, item: Article) -> datetime | None:
        return item.published_at

    def item_author_name(self, item: Article) -> str:
        return item.source
