"""The operators' crawl status page and Prometheus /metrics, fed by the crawlers' stats files."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from django.test import Client

from kuaizhao.crawler.progress import StatsFile, stats_path
from kuaizhao.lib.outlets import Outlet

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
