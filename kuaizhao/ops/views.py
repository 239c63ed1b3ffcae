"""Crawl status page and Prometheus metrics.

Two sources: the stats files the crawlers write (``$KUAIZHAO_HOME/crawl-stats/<host>-<pid>.json``,
see :mod:`kuaizhao.crawler.progress`; crawlers never touch the catalogue), for what is going
on now, and the catalogue, for what lasts across crawler restarts: captures per outlet and
day, last capture and last success, articles per day, extraction failures (counted by ingest).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Q
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from kuaizhao import conf
from kuaizhao.archive import searching
from kuaizhao.crawler.progress import OUTLET_KINDS, read_all
from kuaizhao.search.sqlite import SqliteSearch

STALE_AFTER = 600.0
"""A crawler whose stats are older than this (seconds) is shown as stopped."""
CHART_DAYS = 14
"""Days shown by the captures chart."""
RATE_DAYS = 7
"""Articles per day: the mean over this many days of first captures."""
PALETTE = ("#c0392b", "#2471a3", "#1e8449", "#b9770e", "#7d3c98", "#117a65", "#566573")


@dataclass
class Catalogue:
    """Per-outlet facts from the catalogue."""

    names: dict[str, str] = field(default_factory=dict)
    last_capture: dict[str, datetime] = field(default_factory=dict)
    last_success: dict[str, datetime] = field(default_factory=dict)
    archived: dict[str, int] = field(default_factory=dict)
    recent_articles: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    days: list[date] = field(default_factory=list)
    per_day: dict[str, list[int]] = field(default_factory=dict)


def catalogue_facts(now: datetime | None = None) -> Catalogue:
    from kuaizhao.archive.models import Article, Capture, Outlet
    from kuaizhao.ops.models import ExtractionFailure

    now = now or timezone.now()
    facts = Catalogue(names=dict(Outlet.objects.values_list("slug", "name")))
    captures = Capture.objects.exclude(outlet="")
    for row in captures.values("outlet").annotate(
        last=Max("captured_at"), ok=Max("captured_at", filter=Q(status=200))
    ):
        facts.last_capture[row["outlet"]] = row["last"]
        if row["ok"] is not None:
            facts.last_success[row["outlet"]] = row["ok"]
    articles = Article.objects.exclude(outlet=None)
    facts.archived = dict(
        articles.values_list("outlet__slug")
        .annotate(n=Count("id"))
        .values_list("outlet__slug", "n")
    )
    recent = articles.filter(first_captured_at__gte=now - timedelta(days=RATE_DAYS))
    facts.recent_articles = dict(
        recent.values_list("outlet__slug").annotate(n=Count("id")).values_list("outlet__slug", "n")
    )
    facts.failures = dict(
        ExtractionFailure.objects.values_list("outlet")
        .annotate(n=Count("id"))
        .values_list("outlet", "n")
    )
    today = timezone.localdate(now)
    facts.days = [today - timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1)]
    index = {day: i for i, day in enumerate(facts.days)}
    since = now - timedelta(days=CHART_DAYS + 1)
    daily = (
        captures.filter(captured_at__gte=since)
        .annotate(day=TruncDate("captured_at"))
        .values("outlet", "day")
        .annotate(n=Count("id"))
    )
    for slug, day, n in daily.values_list("outlet", "day", "n"):
        i = index.get(day)
        if i is not None:
            facts.per_day.setdefault(slug, [0] * CHART_DAYS)[i] += n
    return facts


def _timestamp(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _outlet_rows(crawlers: list[dict[str, Any]], facts: Catalogue) -> list[dict[str, Any]]:
    """Per outlet: crawler totals (summed over processes), error rate, catalogue facts."""
    rows: dict[str, dict[str, Any]] = {}

    def row_for(slug: str, name: str) -> dict[str, Any]:
        return rows.setdefault(
            slug,
            {"slug": slug, "name": name, "last_success": None} | {k: 0 for k in OUTLET_KINDS},
        )

    for crawler in crawlers:
        for slug, data in crawler.get("per_outlet", {}).items():
            row = row_for(slug, data.get("name", slug))
            for kind in OUTLET_KINDS:
                row[kind] += int(data.get(kind, 0))
            last = data.get("last_success")
            if last and (row["last_success"] is None or last > row["last_success"]):
                row["last_success"] = last
    for slug in {*facts.names, *facts.last_capture}:
        row_for(slug, facts.names.get(slug, slug))
    for row in rows.values():
        slug = row["slug"]
        row["error_rate"] = row["errors"] / row["responses"] if row["responses"] else 0.0
        row["archived"] = facts.archived.get(slug, 0)
        row["per_day"] = facts.recent_articles.get(slug, 0) / RATE_DAYS
        row["extraction_failures"] = facts.failures.get(slug, 0)
        row["last_capture"] = _timestamp(facts.last_capture.get(slug))
        catalogued = _timestamp(facts.last_success.get(slug))
        if catalogued and (row["last_success"] is None or catalogued > row["last_success"]):
            row["last_success"] = catalogued
        row["captures_by_day"] = facts.per_day.get(slug, [0] * CHART_DAYS)
    return sorted(rows.values(), key=lambda r: r["slug"])


def captures_chart(days: list[date], rows: list[dict[str, Any]]) -> SafeString:
    """An inline SVG line chart of captures per day, one line per outlet (no script)."""
    width, height = 720, 260
    left, right, top, bottom = 48, 150, 16, 32
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([1, *(n for r in rows for n in r["captures_by_day"])])
    step = plot_w / max(1, len(days) - 1)

    def x(i: int) -> float:
        return float(left + i * step)

    def y(n: int) -> float:
        return float(top + plot_h - n / peak * plot_h)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="captures-chart-title">',
        '<title id="captures-chart-title">每日采集数（按来源）</title>',
        '<g font-size="11" fill="#555">',
    ]
    for value in sorted({0, peak // 2, peak}):
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'stroke="#ddd"/><text x="{left - 6}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end">{value}</text>'
        )
    for i, day in enumerate(days):
        if i in (0, len(days) // 2, len(days) - 1):
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - 10}" text-anchor="middle">{day:%m-%d}</text>'
            )
    parts.append("</g>")
    for n, row in enumerate(rows):
        color = PALETTE[n % len(PALETTE)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(row["captures_by_day"]))
        label = escape(f"{row['name']} ({row['slug']})")
        parts.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}">'
            f"<title>{label}: {sum(row['captures_by_day'])}</title></polyline>"
        )
        legend_y = top + 6 + n * 16
        parts.append(
            f'<rect x="{left + plot_w + 12}" y="{legend_y - 8}" width="10" height="10" '
            f'fill="{color}"/><text x="{left + plot_w + 26}" y="{legend_y + 1}" '
            f'font-size="12">{escape(row["name"])}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text in it is escaped above


def _when(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp)) if stamp else "—"


def _crawlers(now: float) -> list[dict[str, Any]]:
    crawlers = read_all(conf.home())
    for crawler in crawlers:
        crawler["running"] = not crawler.get("finished") and now - crawler["updated"] < STALE_AFTER
        crawler["updated_text"] = _when(crawler["updated"])
    return crawlers


def status(request: HttpRequest) -> HttpResponse:
    now = time.time()
    crawlers = _crawlers(now)
    facts = catalogue_facts()
    outlets = _outlet_rows(crawlers, facts)
    for row in outlets:
        row["last_capture_text"] = _when(row["last_capture"])
        row["last_success_text"] = _when(row["last_success"])
    context = {
        "crawlers": crawlers,
        "outlets": outlets,
        "now": now,
        "chart": captures_chart(facts.days, outlets) if outlets else "",
        "chart_days": CHART_DAYS,
        "rate_days": RATE_DAYS,
    }
    return render(request, "ops/status.html", context)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format (version 0.0.4): the status page's figures."""
    now = time.time()
    crawlers = _crawlers(now)
    lines: list[str] = []

    def family(name: str, kind: str, help: str) -> None:
        lines.append(f"# HELP {name} {help}")
        lines.append(f"# TYPE {name} {kind}")

    def crawler_label(c: dict[str, Any]) -> str:
        return 'crawler="' + _escape(f"{c['host']}-{c['pid']}") + '"'

    family("kuaizhao_crawler_up", "gauge", "1 while a crawler process reports, else 0.")
    for c in crawlers:
        lines.append(f"kuaizhao_crawler_up{{{crawler_label(c)}}} {int(c['running'])}")
    family("kuaizhao_crawler_pages_per_second", "gauge", "Responses per second, last second.")
    for c in crawlers:
        lines.append(f"kuaizhao_crawler_pages_per_second{{{crawler_label(c)}}} {c['pages_per_s']}")
    family("kuaizhao_crawler_queue", "gauge", "Requests waiting in the crawler's frontier.")
    for c in crawlers:
        lines.append(f"kuaizhao_crawler_queue{{{crawler_label(c)}}} {c['queue']}")
    rows = _outlet_rows(crawlers, catalogue_facts())

    def per_outlet(name: str, kind: str, help: str, key: str, fmt: str = "{}") -> None:
        family(name, kind, help)
        for row in rows:
            if row[key] is not None:
                value = fmt.format(row[key])
                lines.append(f'{name}{{outlet="{_escape(row["slug"])}"}} {value}')

    for kind in OUTLET_KINDS:
        help = f"{kind.capitalize()} per outlet, summed over crawler processes."
        per_outlet(f"kuaizhao_outlet_{kind}_total", "counter", help, kind)
    per_outlet(
        "kuaizhao_outlet_error_ratio", "gauge", "Errors per response.", "error_rate", "{:.4f}"
    )
    per_outlet(
        "kuaizhao_outlet_last_success_seconds", "gauge", "Unix time of the last 200 response.",
        "last_success", "{:.3f}",
    )  # fmt: skip
    per_outlet(
        "kuaizhao_outlet_last_capture_seconds", "gauge", "Unix time of the last capture.",
        "last_capture", "{:.3f}",
    )  # fmt: skip
    per_outlet(
        "kuaizhao_outlet_archived_articles", "gauge", "Articles in the catalogue.", "archived"
    )
    per_outlet(
        "kuaizhao_outlet_articles_per_day", "gauge",
        f"New articles per day, mean of the last {RATE_DAYS} days.", "per_day", "{:.2f}",
    )  # fmt: skip
    per_outlet(
        "kuaizhao_outlet_extraction_failures_total", "counter",
        "Article pages from which ingest extracted no article.", "extraction_failures",
    )  # fmt: skip
    family("kuaizhao_outlet_captures_today", "gauge", "Catalogued captures since midnight.")
    for row in rows:
        today = row["captures_by_day"][-1]
        lines.append(f'kuaizhao_outlet_captures_today{{outlet="{_escape(row["slug"])}"}} {today}')
    engine = searching.backend()
    if isinstance(engine, SqliteSearch):  # segments ingest merges when idle (docs/search.md)
        family("kuaizhao_search_index_segments", "gauge", "Segments of each SQLite FTS5 table.")
        for table, levels in engine.segments().items():
            lines.append(f'kuaizhao_search_index_segments{{table="{table}"}} {sum(levels)}')
    return HttpResponse(
        "\n".join(lines) + "\n", content_type="text/plain; version=0.0.4; charset=utf-8"
    )
