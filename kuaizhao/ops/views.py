"""Crawl status page and Prometheus metrics, from the stats files the crawlers write.

Crawlers never touch the catalogue; each writes ``$KUAIZHAO_HOME/crawl-stats/<host>-<pid>.json``
(see :mod:`kuaizhao.crawler.progress`). These views read those files, plus the
catalogue's article counts per outlet.
"""

from __future__ import annotations

import time
from typing import Any

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kuaizhao import conf
from kuaizhao.crawler.progress import OUTLET_KINDS, read_all

STALE_AFTER = 600.0
"""A crawler whose stats are older than this (seconds) is shown as stopped."""


def _outlet_rows(crawlers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-outlet totals over every crawler, with error rate and articles per day."""
    from kuaizhao.archive.models import Article

    archived = dict(
        Article.objects.values_list("outlet__slug")
        .annotate(n=Count("id"))
        .values_list("outlet__slug", "n")
    )
    rows: dict[str, dict[str, Any]] = {}
    for crawler in crawlers:
        days = max((crawler["updated"] - crawler["started"]) / 86400.0, 1 / 1440)
        for slug, data in crawler.get("per_outlet", {}).items():
            row = rows.setdefault(
                slug,
                {"slug": slug, "name": data.get("name", slug), "last_success": None, "per_day": 0.0}
                | {k: 0 for k in OUTLET_KINDS},
            )
            for kind in OUTLET_KINDS:
                row[kind] += int(data.get(kind, 0))
            row["per_day"] += int(data.get("articles", 0)) / days
            last = data.get("last_success")
            if last and (row["last_success"] is None or last > row["last_success"]):
                row["last_success"] = last
    for row in rows.values():
        row["error_rate"] = row["errors"] / row["responses"] if row["responses"] else 0.0
        row["archived"] = archived.get(row["slug"], 0)
    return sorted(rows.values(), key=lambda r: r["slug"])


def status(request: HttpRequest) -> HttpResponse:
    crawlers = read_all(conf.home())
    now = time.time()
    for crawler in crawlers:
        crawler["running"] = not crawler.get("finished") and now - crawler["updated"] < STALE_AFTER
    context = {"crawlers": crawlers, "outlets": _outlet_rows(crawlers), "now": now}
    return render(request, "ops/status.html", context)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format (version 0.0.4)."""
    crawlers = read_all(conf.home())
    now = time.time()
    lines: list[str] = []

    def family(name: str, kind: str, help: str) -> None:
        lines.append(f"# HELP {name} {help}")
        lines.append(f"# TYPE {name} {kind}")

    def crawler_label(c: dict[str, Any]) -> str:
        return 'crawler="' + _escape(f"{c['host']}-{c['pid']}") + '"'

    family("kuaizhao_crawler_up", "gauge", "1 while a crawler process reports, else 0.")
    for c in crawlers:
        up = int(not c.get("finished") and now - c["updated"] < STALE_AFTER)
        lines.append(f"kuaizhao_crawler_up{{{crawler_label(c)}}} {up}")
    family("kuaizhao_crawler_pages_per_second", "gauge", "Responses per second, last second.")
    for c in crawlers:
        lines.append(f"kuaizhao_crawler_pages_per_second{{{crawler_label(c)}}} {c['pages_per_s']}")
    family("kuaizhao_crawler_queue", "gauge", "Requests waiting in the crawler's frontier.")
    for c in crawlers:
        lines.append(f"kuaizhao_crawler_queue{{{crawler_label(c)}}} {c['queue']}")
    rows = _outlet_rows(crawlers)
    for kind in OUTLET_KINDS:
        name = f"kuaizhao_outlet_{kind}_total"
        family(name, "counter", f"{kind.capitalize()} per outlet, summed over crawler processes.")
        for row in rows:
            lines.append(f'{name}{{outlet="{_escape(row["slug"])}"}} {row[kind]}')
    family("kuaizhao_outlet_last_success_seconds", "gauge", "Unix time of the last 200 response.")
    for row in rows:
        if row["last_success"]:
            value = f"{row['last_success']:.3f}"
            lines.append(f'kuaizhao_outlet_last_success_seconds{{outlet="{row["slug"]}"}} {value}')
    family("kuaizhao_outlet_archived_articles", "gauge", "Articles in the catalogue per outlet.")
    for row in rows:
        archived = row["archived"]
        lines.append(f'kuaizhao_outlet_archived_articles{{outlet="{row["slug"]}"}} {archived}')
    return HttpResponse(
        "\n".join(lines) + "\n", content_type="text/plain; version=0.0.4; charset=utf-8"
    )
