from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from kuaizhao.archive.ingest import ingest
from kuaizhao.archive.models import Article
from kuaizhao.lib.outlets import Outlet
from tests.factories import TINY_PNG, Page, write_warc

pytestmark = pytest.mark.django_db

BASE = "http://news.test.example"
IMG = "http://img.test.example/2024/pic.png"


@pytest.fixture
def archive(home: Path, outlet: Outlet) -> dict[str, Article]:
    pages = [
        Page(f"{BASE}/gn/2024/0301/c101.html", images=[(IMG, "与会人员参观展览。测试日报 李四摄")]),
        Page(
            f"{BASE}/gn/2024/0302/c102.html",
            title="五市城际公交开通",
            published="2024-03-02 09:30:00",
            repost_from="江北新闻网",
            paragraphs=(
                "山西中部城市群首批城际公交线路今天开通，市民乘车更加方便，票价实行统一标准。",
            )
            * 3,
        ),
        Page(
            f"{BASE}/gj/2024/0303/c103.html",
            title="国际航线恢复运营",
            published="2024-03-03 10:00:00",
            paragraphs=("多条国际航线本周恢复运营，旅客出行更加便利，航空公司增加了航班密度。",)
            * 3,
        ),
    ]
    write_warc(home / "warc", pages, images={IMG: TINY_PNG})
    ingest(home / "warc", [outlet])
    return {a.url.rsplit("/", 1)[-1]: a for a in Article.objects.all()}


def test_the_snapshot_page_shows_everything_the_seed_shows(client: Client, archive):
    article = archive["c101.html"]
    html = client.get(f"/s/{article.id}").content.decode()
    assert "我的订阅" in html and "国际" in html  # header and category navigation
    assert "<h1>山西中部城市群高质量发展推进会举行</h1>" in html
    assert "类别:" in html and "发布时间:" in html and "2024-03-01 08:00:00" in html
    assert "来源:测试日报" in html
    assert "二十项政务服务事项跨市通办" in html
    assert "测试日报 李四摄" in html  # caption
    assert "本站未对信息做任何修改" in html
    assert "快照生成时间:" in html and "2024-03-05 14:00:00" in html
    assert "如有侵权请" in html and 'href="/takedown"' in html
    assert f'href="{BASE}/gn/2024/0301/c101.html"' in html  # 信息原文地址
    assert "相关报道" in html and "五市城际公交开通" in html  # related coverage
    assert "更多关于国内的资讯" in html


def test_related_coverage_lists_other_articles_with_the_key_phrase(client: Client, archive):
    html = client.get(f"/s/{archive['c102.html'].id}").content.decode()
    assert "本文转自:江北新闻网" in html
    related = html.split("相关报道", 1)[1].split("更多关于", 1)[0]
    assert "山西中部城市群高质量发展推进会举行" in related
    assert "国际航线恢复运营" not in related


def test_images_are_served_from_the_archive_not_hot_linked(client: Client, archive):
    html = client.get(f"/s/{archive['c101.html'].id}").content.decode()
    assert IMG not in re.findall(r'<img[^>]*src="([^"]+)"', html)
    src = re.search(r'<img[^>]*src="(/img\?url=[^"]+)"', html)
    assert src is not None
    response = client.get(src.group(1).replace("&amp;", "&"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content == TINY_PNG


def test_an_image_never_captured_is_a_404(client: Client, archive):
    assert client.get("/img", {"url": "http://elsewhere.example/x.png"}).status_code == 404


def test_home_and_category_pages_list_the_newest_first(client: Client, archive):
    home = client.get("/").content.decode()
    assert "国际航线恢复运营" in home and "五市城际公交开通" in home
    page = client.get("/c/guonei/").content.decode()
    assert page.index("五市城际公交开通") < page.index("山西中部城市群高质量发展推进会举行")
    assert "国际航线恢复运营" not in page
    assert client.get("/c/no-such/").status_code == 404


def test_search_finds_one_and_two_character_words_inside_longer_ones(client: Client, archive):
    for q in ("城", "中部", "城市群", "城际 公交"):
        html = client.get("/search", {"q": q}).content.decode()
        assert "五市城际公交开通" in re.sub(r"<[^>]+>", "", html), q
        assert "<mark>" in html
    html = client.get("/search", {"q": "航线", "category": "guonei"}).content.decode()
    assert "找到 0 篇" in html


@pytest.mark.parametrize(
    "q", ['"', "AND OR NOT", "* ^ :", "城市群 NEAR(", "'; DROP TABLE archive_article; --"]
)
def test_search_treats_operators_as_text(client: Client, archive, q):
    assert client.get("/search", {"q": q}).status_code == 200
    assert Article.objects.count() == 3


def test_a_nul_character_is_refused_with_a_clear_error(client: Client, archive):
    for path, params in (("/search", {"q": "城\x00市"}), ("/lookup", {"url": "a\x00b"})):
        response = client.get(path, params)
        assert response.status_code == 400
        assert "NUL" in response.content.decode()
    assert Article.objects.count() == 3


def test_an_overlong_query_gets_a_clear_error(client: Client, archive):
    response = client.get("/search", {"q": "城" * 300})
    assert response.status_code == 400
    assert "查询过长" in response.content.decode()


def test_lookup_finds_a_page_under_other_spellings_of_its_url(client: Client, archive):
    for spelling in (
        "news.test.example/gn/2024/0301/c101.html",
        "HTTP://NEWS.test.example:80/gn/2024/0301/c101.html?utm_source=wx#top",
    ):
        html = client.get("/lookup", {"url": spelling}).content.decode()
        assert "山西中部城市群高质量发展推进会举行" in html, spelling
    html = client.get("/lookup", {"url": "http://news.test.example/never.html"}).content.decode()
    assert "尚未收录" in html


def test_pages_forbid_scripts_from_elsewhere(client: Client, archive):
    response = client.get(f"/s/{archive['c101.html'].id}")
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_a_hostile_page_is_shown_without_its_scripts(client: Client, home: Path, outlet: Outlet):
    evil = Page(
        f"{BASE}/gn/2024/0304/c104.html",
        title="正常的标题<script>alert(1)</script>",
        extra_body=(
            "<p>正文<script>alert(2)</script><img src=x onerror=alert(3)>"
            "继续，这是一段足够长的正文内容。</p>"
        ),
    )
    write_warc(home / "warc", [evil])
    ingest(home / "warc", [outlet])
    html = client.get(f"/s/{Article.objects.get().id}").content.decode()
    assert "<script>alert" not in html and "onerror" not in html


def test_the_category_feed_is_atom(client: Client, archive):
    response = client.get("/c/guonei/feed.atom")
    assert response["Content-Type"].startswith("application/atom+xml")
    assert "五市城际公交开通" in response.content.decode()


@pytest.mark.parametrize("url", ["http://[::1", "http://host:99999/x", "http://", "   "])
def test_lookup_of_a_broken_url_says_so(client: Client, archive, url):
    response = client.get("/lookup", {"url": url})
    assert response.status_code in (200, 400)
    if url.strip():
        assert response.status_code == 400
        assert "不是有效的网址" in response.content.decode()


def test_an_image_request_with_a_broken_url_is_a_404(client: Client, archive):
    assert client.get("/img", {"url": "http://[::1"}).status_code == 404
    assert client.get("/img").status_code == 404
