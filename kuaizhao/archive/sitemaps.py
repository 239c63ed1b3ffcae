"""sitemap.xml: an index of sections, each cut into pages of at most ``limit`` addresses.

Snapshot pages change only when their article gets a new version, so ``lastmod`` is the
article's last capture, and search engines re-read only what changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from kuaizhao.archive.models import Article, Outlet
from kuaizhao.lib.outlets import CATEGORIES
from kuaizhao.takedown import visibility


class ArticleSitemap(Sitemap[Article]):
    limit = 10000  # well under the protocol's 50,000, so each page renders quickly
    changefreq = "never"

    def items(self) -> QuerySet[Article]:
        return visibility.public(Article.objects.only("id", "last_captured_at")).order_by("id")

    def location(self, item: Article) -> str:
        return reverse("snapshot", args=[item.pk])

    def lastmod(self, item: Article) -> datetime:
        return item.last_captured_at

    def get_latest_lastmod(self) -> datetime | None:
        found: datetime | None = visibility.public(Article.objects.all()).aggregate(
            t=Max("last_captured_at")
        )["t"]
        return found


class CategorySitemap(Sitemap[str]):
    changefreq = "hourly"

    def items(self) -> list[str]:
        return [slug for slug, _ in CATEGORIES]

    def location(self, item: str) -> str:
        return reverse("category", args=[item])


class OutletSitemap(Sitemap[Outlet]):
    changefreq = "hourly"

    def items(self) -> QuerySet[Outlet]:
        return Outlet.objects.order_by("slug")

    def location(self, item: Outlet) -> str:
        return reverse("outlet", args=[item.slug])


class PageSitemap(Sitemap[str]):
    changefreq = "hourly"

    def items(self) -> list[str]:
        return ["home", "lookup", "outlets"]

    def location(self, item: str) -> str:
        return reverse(item)


SECTIONS: dict[str, Any] = {
    "pages": PageSitemap,
    "categories": CategorySitemap,
    "outlets": OutletSitemap,
    "articles": ArticleSitemap,
}


def index(request: HttpRequest) -> HttpResponse:
    return sitemap_views.index(
        request,
        SECTIONS,
        template_name="sitemaps/index.xml",
        sitemap_url_name="sitemap-section",
    )


def section(request: HttpRequest, section: str) -> HttpResponse:
    return sitemap_views.sitemap(
        request, SECTIONS, section=section, template_name="sitemaps/section.xml"
    )
