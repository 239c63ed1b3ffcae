"""Article versions on the snapshot page: the history, any version, and what changed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.test import Client

from kuaizhao.archive.ingest import ingest
from kuaizhao.archive.models import Article
from kuaizhao.lib.outlets import Outlet
from tests.factories import PARAGRAPHS, Page, write_warc

URL = "http://news.test.example/gn/2024/0301/c101.html"
EDITED = (
    "本报太原3月1日电（记者 田小雨）推进会在太原举行。",
    *PARAGRAPHS[1:],
    "新增的一段：会议还发布了协作清单。",
)


@pytest.fixture
def article(home: Path, outlet: Outlet) -> Article:
    write_warc(home / "warc", [Page(URL)])
    second = datetime(2024, 3, 6, 2, 0, tzinfo=UTC)
    write_warc(home / "warc", [Page(URL, title="推进会举行（更新）")], captured_at=second)
    third = datetime(2024, 3, 7, 2, 0, tzinfo=UTC)
    page = Page(URL, title="推进会举行（更新）", paragraphs=EDITED)
    write_warc(home / "warc", [page], captured_at=third)
    ingest(home / "warc", [outlet])
    return Article.objects.get()


@pytest.mark.django_db
def test_the_snapshot_page_lists_every_version(client: Client, article: Article):
    html = client.get(f"/s/{article.id}").content.decode()
    assert "版本记录（共 3 版）" in html
    for n in (1, 2, 3):
        assert f'href="/s/{article.id}/v/{n}"' in html
    assert f'href="/s/{article.id}/diff?a=2&amp;b=3"' in html
    assert "<h1>推进会举行（更新）</h1>" in html


@pytest.mark.django_db
def test_an_old_version_shows_what_it_said_then(client: Client, article: Article):
    html = client.get(f"/s/{article.id}/v/1").content.decode()
    assert "<h1>山西中部城市群高质量发展推进会举行</h1>" in html
    assert "第 1 版（共 3 版）" in html
    assert "2024-03-05 14:00:00" in html  # that version's capture time (Beijing time)
    assert client.get(f"/s/{article.id}/v/4").status_code == 404


@pytest.mark.django_db
def test_the_diff_shows_title_and_body_changes(client: Client, article: Article):
    html = client.get(f"/s/{article.id}/diff?a=1&b=3").content.decode()
    assert "<del>山西中部城市群高质量发展</del>" in html
    assert "<ins>（更新）</ins>" in html
    assert '<p class="diff-ins"><ins>新增的一段：会议还发布了协作清单。</ins></p>' in html
    assert '<p class="diff-changed">' in html
    assert "<del>3月1日，山西中部城市群高质量发展</del>" in html


@pytest.mark.django_db
def test_the_diff_defaults_to_the_last_two_versions(client: Client, article: Article):
    html = client.get(f"/s/{article.id}/diff").content.decode()
    assert "第 2 版" in html and "第 3 版" in html
    assert "<ins>新增的一段：会议还发布了协作清单。</ins>" in html


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["a=0", "a=9", "b=x", "a=-1", "a=1&b=" + "9" * 40])
def test_a_bad_version_number_is_a_clear_400(client: Client, article: Article, query: str):
    response = client.get(f"/s/{article.id}/diff?{query}")
    assert response.status_code == 400
    assert "版本号" in response.content.decode()
