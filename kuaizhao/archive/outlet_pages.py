"""Outlet pages: every outlet the archive collects, and per outlet its articles and health."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from kuaizhao.archive.models import Article, Outlet
from kuaizhao.takedown import visibility

PAGE_SIZE = 30
MAX_PAGE = 1000


def _page_number(request: HttpRequest) -> int:
    try:
        return min(max(1, int(request.GET.get("page", "1"))), MAX_PAGE)
    except ValueError:
        return 1


def health(slug: str) -> dict[str, Any] | None:
    """The outlet's row of the operators' status page (kuaizhao.ops): crawler totals, error
    rate, last capture and success, articles per day, extraction failures, captures per day,
    and that row's chart; None when neither a crawler nor the catalogue knows the outlet."""
    from kuaizhao.ops import views as ops

    facts = ops.catalogue_facts()
    for row in ops._outlet_rows(ops._crawlers(time.time()), facts):
        if row["slug"] == slug:
            return row | {
                "last_capture": _when(row["last_capture"]),
                "last_success": _when(row["last_success"]),
                "chart": ops.captures_chart(facts.days, [row]),
                "chart_days": ops.CHART_DAYS,
                "rate_days": ops.RATE_DAYS,
            }
    return None


def _when(stamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(stamp, UTC) if stamp else None


def outlet_index(request: HttpRequest) -> HttpResponse:
    shown = ~Q(article__pk__in=visibility.hidden_ids())
    outlets = Outlet.objects.annotate(
        articles=Count("article", filter=shown),
        last_capture=Max("article__last_captured_at", filter=shown),
    ).order_by("name")
    return render(request, "archive/outlets.html", {"outlets": outlets})


def outlet(request: HttpRequest, slug: str) -> HttpResponse:
    found = get_object_or_404(Outlet, slug=slug)
    articles = visibility.public(Article.objects.filter(outlet=found)).order_by(
        "-published_at", "-id"
    )
    page = Paginator(articles.select_related("outlet"), PAGE_SIZE).get_page(_page_number(request))
    context = {"outlet": found, "page": page, "health": health(found.slug)}
    return render(request, "archive/outlet.html", context)
