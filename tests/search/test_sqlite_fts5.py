"""The SQLite backend, through the catalogue it searches."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kuaizhao.archive import searching
from kuaizhao.archive.ingest import ingest
from kuaizhao.archive.models import Article
from kuaizhao.lib.outlets import Outlet
from kuaizhao.search.query import parse
from tests.factories import Page, write_warc

pytestmark = pytest.mark.django_db

BASE = "http://news.test.example"
PAGES = [
    Page(
        f"{BASE}/gn/2024/0110/c1.html",
        title="山西中部城市群建设提速",
        published="2024-01-10 08:00:00",
        source="华夏日报网-山西频道",
    ),
    Page(
        f"{BASE}/gn/2024/0220/c2.html",
        title="高铁新线开通运营",
        published="2024-02-20 09:00:00",
        source="江北新闻网",
        paragraphs=(
            "连接太原和大同的高铁新线今天开通运营，全程缩短至两小时以内，沿线群众出行更加便捷。",
            "铁路部门介绍，开通初期每天开行动车组列车二十四对，节假日还将视客流情况加开列车。",
            "沿线各市表示，将抓住高铁开通机遇，完善站点周边交通接驳，推动文旅资源共享。",
        ),
    ),
    Page(
        f"{BASE}/gj/2024/0305/c3.html",
        title="国际航线恢复运营",
        published="2024-03-05 10:00:00",
        source="南风网",
        paragraphs=(
            "多条国际航线本周恢复运营，旅客出行更加便利，航空公司增加了航班密度。",
            "机场方面介绍，恢复的航线覆盖东南亚和欧洲的主要城市，每周往返二十余班。",
            "业内人士认为，国际客运市场正在稳步回暖，暑期出行需求有望进一步释放。",
        ),
    ),
]


@pytest.fixture
def archive(home: Path, outlet: Outlet) -> dict[str, Article]:
    write_warc(home / "warc", PAGES, captured_at=datetime(2024, 4, 1, tzinfo=UTC))
    ingest(home / "warc", [outlet])
    return {a.url.rsplit("/", 1)[-1]: a for a in Article.objects.all()}


def found(text: str, **kwargs) -> list[str]:
    page = searching.backend().search(parse(text), **kwargs)
    return sorted(hit.title for hit in page.hits)


def test_or_finds_either(archive):
    assert found("城市群 OR 航线") == ["国际航线恢复运营", "山西中部城市群建设提速"]


def test_minus_excludes(archive):
    assert found("运营 -国际") == ["高铁新线开通运营"]
    assert found('运营 -"国际航线"') == ["高铁新线开通运营"]


def test_filters_narrow_the_results(archive):
    assert found("运营 category:国际") == ["国际航线恢复运营"]
    assert found("运营 source:江北") == ["高铁新线开通运营"]
    assert found("category:国内 after:2024-02-01") == ["高铁新线开通运营"]
    assert found("category:国内 before:2024-01-10") == ["山西中部城市群建设提速"]
    assert found("category:国内 before:2024-01-09") == []


def test_time_order_puts_the_newest_first(archive):
    page = searching.backend().search(parse("运营"), order="time")
    assert [h.title for h in page.hits] == ["国际航线恢复运营", "高铁新线开通运营"]


def test_the_title_weighs_more_than_the_body(archive):
    page = searching.backend().search(parse("高铁"))
    assert page.hits[0].title == "高铁新线开通运营"


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_substring_of_an_article_finds_it(archive, data):
    article = data.draw(st.sampled_from(sorted(archive.values(), key=lambda a: a.id)))
    text = data.draw(st.sampled_from([article.title, article.body_text]))
    length = data.draw(st.integers(1, min(12, len(text))))
    start = data.draw(st.integers(0, len(text) - length))
    needle = text[start : start + length]
    if not needle.strip() or '"' in needle or any(c.isspace() for c in needle):
        return  # a search box holds no line breaks; whitespace is tested elsewhere
    page = searching.backend().search(parse(f'"{needle}"'), per_page=10)
    brute = {
        a.id
        for a in Article.objects.all()
        if needle.lower() in (a.title + "\n" + a.body_text).lower()
    }
    assert {h.article_id for h in page.hits} == brute
