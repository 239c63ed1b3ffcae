"""The operators' crawl status page and Prometheus /metrics, fed by the crawlers' stats files."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from kuaizhao.crawler.progress import StatsFile, stats_path
from kuaizhao.lib.outlets import Outlet
from tests.factories import Page, write_warc

pytestmark = pytest.mark.django_db


class FakeCrawler:
    """Just what StatsFile.write reads: stats and (no) engine."""

    engine = None

    def __init__(self, stats: dict[str, object]) -> None:
        self._stats = stats

    @property
    def stats(self) -> FakeCrawler:
        return self

    def get_stats(self) -> dict[str, object]:
        return self._stats


def write_stats(home: Path, outlet: Outlet, finished: str = "") -> None:
    slug = outlet.slug
    crawler = FakeCrawler(
        {
            "kuaizhao/responses": 40,
            "kuaizhao/articles": 12,
            f"kuaizhao/outlet/{slug}/responses": 40,
            f"kuaizhao/outlet/{slug}/articles": 12,
            f"kuaizhao/outlet/{slug}/errors": 4,
            f"kuaizhao/outlet/{slug}/gone": 1,
            f"kuaizhao/outlet/{slug}/last_success": time.time(),
        }
    )
    StatsFile(stats_path(home), forever=True).write(crawler, [outlet], finished=finished)


def test_status_page_shows_each_crawler_and_outlet(home: Path, outlet: Outlet) -> None:
    write_stats(home, outlet)
    page = Client().get("/ops/status")
    assert page.status_code == 200
    text = page.content.decode()
    assert "采集状态" in text and "运行中" in text
    assert outlet.name in text and "10%" in text  # 4 errors in 40 responses


def test_status_page_without_crawlers_says_how_to_start(home: Path) -> None:
    text = Client().get("/ops/status").content.decode()
    assert "kuaizhao crawl" in text


def test_metrics_are_prometheus_text(home: Path, outlet: Outlet) -> None:
    write_stats(home, outlet, finished="finished")
    response = Client().get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    lines = response.content.decode().splitlines()
    assert f'kuaizhao_outlet_responses_total{{outlet="{outlet.slug}"}} 40' in lines
    assert f'kuaizhao_outlet_gone_total{{outlet="{outlet.slug}"}} 1' in lines
    assert any(line.startswith("kuaizhao_crawler_up{") and line.endswith(" 0") for line in lines)
    names = [line.split("{")[0].split(" ")[0] for line in lines if not line.startswith("#")]
    families = [line.split()[2] for line in lines if line.startswith("# TYPE")]
    assert len(families) == len(set(families))  # each family declared once
    assert set(names) <= set(families)
    data = json.loads(stats_path(home).read_text(encoding="utf-8"))
    assert data["per_outlet"][outlet.slug]["articles"] == 12


def catalogue_with_a_failure(home: Path, outlet: Outlet) -> None:
    """Two days of captures: one good article page, one article page with no text."""
    from kuaizhao.archive.ingest import ingest

    now = datetime.now(UTC)
    good = Page("http://news.test.example/gn/2024/0301/c101.html")
    empty = Page("http://news.test.example/gn/2024/0301/c102.html", paragraphs=())
    write_warc(home / "warc", [good], captured_at=now - timedelta(days=1))
    write_warc(home / "warc", [good, empty], captured_at=now)
    ingest(home / "warc", [outlet])


def test_ingest_counts_article_pages_it_could_not_extract(home: Path, outlet: Outlet) -> None:
    from kuaizhao.archive.ingest import ingest, reset
    from kuaizhao.ops.models import ExtractionFailure

    catalogue_with_a_failure(home, outlet)
    failure = ExtractionFailure.objects.get()
    assert failure.url.endswith("/c102.html") and failure.outlet == outlet.slug
    assert failure.reason == "no body text"
    ingest(home / "warc", [outlet])  # nothing new: counted once
    reset()
    ingest(home / "warc", [outlet])  # rebuilt from the WARC files: counted again, once
    assert ExtractionFailure.objects.count() == 1


def test_status_page_shows_catalogue_facts_and_an_svg_chart(home: Path, outlet: Outlet) -> None:
    catalogue_with_a_failure(home, outlet)
    write_stats(home, outlet)
    text = Client().get("/ops/status").content.decode()
    row = text[text.index(f"({outlet.slug})") :].split("</tr>", 1)[0]
    cells = [c.split("</td>")[0] for c in row.split("<td>")[1:]]
    # responses, articles, per day, archived, extraction failures, unchanged, gone, errors
    assert cells[:8] == ["40", "12", "0.1", "1", "1", "0", "1", "10%"]
    svg = text[text.index("<svg") : text.index("</svg>") + 6]
    assert "<script" not in text.lower()  # no JS: the chart is drawn by the server
    assert svg.count("<polyline") == 1 and outlet.name in svg
    points = svg.split('points="', 1)[1].split('"', 1)[0].split()
    assert len(points) == 14  # one point a day
    heights = [float(p.split(",")[1]) for p in points]
    assert heights[-1] < heights[-2] < heights[0]  # 2 captures today, 1 yesterday, 0 before


def test_metrics_export_the_status_page_figures(home: Path, outlet: Outlet) -> None:
    catalogue_with_a_failure(home, outlet)
    write_stats(home, outlet)
    lines = Client().get("/metrics").content.decode().splitlines()
    label = f'{{outlet="{outlet.slug}"}}'
    assert f"kuaizhao_outlet_extraction_failures_total{label} 1" in lines
    assert f"kuaizhao_outlet_archived_articles{label} 1" in lines
    assert f"kuaizhao_outlet_error_ratio{label} 0.1000" in lines
    assert f"kuaizhao_outlet_captures_today{label} 2" in lines
    assert f"kuaizhao_outlet_articles_per_day{label} 0.14" in lines
    last = next(v for v in lines if v.startswith(f"kuaizhao_outlet_last_capture_seconds{label}"))
    assert abs(float(last.split()[-1]) - time.time()) < 600
    segments = {v.split()[0]: int(v.split()[1]) for v in lines if v.startswith("kuaizhao_search")}
    if connection.vendor == "sqlite":  # the article's rows are in at least one segment a table
        assert set(segments) == {
            'kuaizhao_search_index_segments{table="search_fts"}',
            'kuaizhao_search_index_segments{table="search_titles"}',
            'kuaizhao_search_index_segments{table="search_words"}',
        }
        assert min(segments.values()) >= 1
    else:
        assert segments == {}
