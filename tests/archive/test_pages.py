from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.test import Client

from kuaizhao.archive.ingest import ingest
from kuaizhao.archive.models import Article
from kuaizhao.lib.outlets import Outlet, parse_outlet
from kuaizhao.warc.writer import WarcWriter
from tests.conftest import TEST_OUTLET
from tests.factories import TINY_PNG, Page, write_page, write_warc

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


# -- what readers of archives ask for besides the seed's elements -------------------------

OTHER = "http://other.test.example"


@pytest.fixture
def syndicated(archive: dict[str, Article], home: Path, outlet: Outlet) -> Article:
    """A second outlet carries c102's story a day later."""
    other = parse_outlet(
        dict(TEST_OUTLET, slug="otherdaily", name="另一日报", home=f"{OTHER}/", scope=[OTHER[7:]])
    )
    copy = Page(
        f"{OTHER}/gn/2024/0302/c9.html",
        title="五市城际公交开通",
        published="2024-03-02 11:00:00",
        source="另一日报",
        repost_from="测试日报",
        paragraphs=archive["c102.html"].body_text.split("\n")[:1] * 3,
    )
    write_warc(
        home / "warc", [copy], outlet="otherdaily", captured_at=datetime(2024, 3, 6, tzinfo=UTC)
    )
    ingest(home / "warc", [outlet, other])
    return Article.objects.get(url=copy.url)


def test_the_snapshot_page_names_the_other_outlets_that_carry_the_story(
    client: Client, archive, syndicated
):
    html = client.get(f"/s/{archive['c102.html'].id}").content.decode()
    assert "另有 1 家媒体刊载此报道" in html
    story = html.split('class="story"', 1)[1].split("</section>", 1)[0]
    assert f'href="/s/{syndicated.id}"' in story and "另一日报" in story
    copy_page = client.get(f"/s/{syndicated.id}").content.decode()
    assert "最早见于" in copy_page and f'href="/s/{archive["c102.html"].id}"' in copy_page


def test_a_copy_on_the_same_outlet_is_not_counted_as_another_outlet(
    client: Client, archive, home: Path, outlet: Outlet
):
    copy = Page(
        "http://news.test.example/gn/2024/0303/c103.html",
        title="五市城际公交开通",
        published="2024-03-03 09:00:00",
        source="测试日报",
        paragraphs=archive["c102.html"].body_text.split("\n")[:1] * 3,
    )
    write_warc(home / "warc", [copy], captured_at=datetime(2024, 3, 7, tzinfo=UTC))
    ingest(home / "warc", [outlet])
    html = client.get(f"/s/{archive['c102.html'].id}").content.decode()
    assert "本站另存此报道 1 篇" in html and "家媒体刊载" not in html
    assert "（1 篇）" in html


def test_search_shows_a_story_once_with_how_many_copies_it_folded(
    client: Client, archive, syndicated
):
    html = client.get("/search", {"q": "城际公交"}).content.decode()
    assert "找到 2 篇" in html  # three articles match: c101, and c102 with its copy
    entries = re.findall(r"<li>.*?</li>", html.split('class="results"', 1)[1], re.S)
    assert len(entries) == 2
    original = archive["c102.html"].id
    assert f'href="/s/{syndicated.id}' not in html  # folded into its original's entry
    [entry] = [e for e in entries if f'class="title" href="/s/{original}"' in e]
    assert f'<a class="copies" href="/s/{original}#story-h">另有 1 篇转载</a>' in entry
    # the link lands on the snapshot page's list of the story's copies
    assert 'id="story-h"' in client.get(f"/s/{original}").content.decode()
    alone = client.get("/search", {"q": "国际航线"}).content.decode()
    assert "找到 1 篇" in alone and "篇转载" not in alone


def test_the_snapshot_page_shows_the_capture_record_and_where_each_field_came_from(
    client: Client, archive
):
    article = archive["c101.html"]
    html = client.get(f"/s/{article.id}").content.decode()
    assert f"快照摘要值:<code>{article.capture.payload_digest}</code>" in html
    assert 'href="/web/20240305060000/http://news.test.example/gn/2024/0301/c101.html"' in html
    assert re.search(r'<span title="取自：[^"]+">来源:测试日报</span>', html)
    assert re.search(r'<span title="取自：[^"]+">发布时间:', html)
    assert "元数据来源" in html and "<dt>来源</dt>" in html


def test_the_snapshot_page_has_a_canonical_link_and_open_graph_tags(client: Client, archive):
    article = archive["c101.html"]
    html = client.get(f"/s/{article.id}/v/1").content.decode()
    assert f'<link rel="canonical" href="http://testserver/s/{article.id}">' in html
    assert '<meta property="og:title" content="山西中部城市群高质量发展推进会举行">' in html
    assert f'<meta property="og:url" content="http://testserver/s/{article.id}">' in html
    assert '<meta property="og:type" content="article">' in html


def test_the_snapshot_page_says_when_the_original_is_gone(client: Client, archive, home: Path):
    article = archive["c101.html"]
    with WarcWriter(home / "warc") as writer:
        write_page(writer, article.url, b"gone", datetime(2024, 4, 1, tzinfo=UTC), status=404)
    ingest(home / "warc", [])
    html = client.get(f"/s/{article.id}").content.decode()
    assert "原网页已失效" in html and "HTTP 404" in html
    assert "二十项政务服务事项跨市通办" in html  # the snapshot itself is unchanged


# -- conditional GET and the page cache ---------------------------------------------------


def test_a_snapshot_page_answers_a_conditional_get_with_304(client: Client, archive):
    url = f"/s/{archive['c101.html'].id}"
    first = client.get(url)
    assert first.status_code == 200 and first["ETag"] and first["Last-Modified"]
    assert "no-cache" in first["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304 and again.content == b""
    since = client.get(url, headers={"If-Modified-Since": first["Last-Modified"]})
    assert since.status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_cached_snapshot_page_is_the_page_itself(client: Client, archive):
    url = f"/s/{archive['c101.html'].id}"
    first, second = client.get(url), client.get(url)
    assert first.content == second.content and first["ETag"] == second["ETag"]
    assert second["Content-Type"] == "text/html; charset=utf-8"
    assert second["Memento-Datetime"] == first["Memento-Datetime"]
    assert "script-src 'self'" in second["Content-Security-Policy"]


def test_new_articles_change_the_etag_of_the_pages_that_list_them(
    client: Client, archive, home: Path, outlet: Outlet
):
    url = f"/s/{archive['c101.html'].id}"
    before = client.get(url)
    newer = Page(
        f"{BASE}/gn/2024/0309/c109.html",
        title="城际铁路新线开工",
        published="2024-03-09 09:00:00",
        paragraphs=("山西中部城市群城际铁路新线今天开工建设，预计三年后通车，沿线设站十二座。",)
        * 3,
    )
    write_warc(home / "warc", [newer], captured_at=datetime(2024, 3, 9, tzinfo=UTC))
    ingest(home / "warc", [outlet])
    after = client.get(url, headers={"If-None-Match": before["ETag"]})
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    assert "城际铁路新线开工" in after.content.decode()  # 更多关于国内的资讯


def test_a_version_that_does_not_exist_is_a_404(client: Client, archive):
    assert client.get(f"/s/{archive['c101.html'].id}/v/9").status_code == 404


# -- outlets, feeds, sitemap -----------------------------------------------------------------


def test_the_outlet_page_lists_its_articles_and_its_health(client: Client, archive):
    html = client.get("/o/testdaily/").content.decode()
    assert "<h1>测试日报</h1>" in html
    assert html.index("国际航线恢复运营") < html.index("五市城际公交开通")  # newest first
    assert "已收录快照" in html and "3 篇" in html and "2024-03-05 14:00:00" in html
    assert "暂无爬虫上报的请求" in html  # no crawler has written stats in this $KUAIZHAO_HOME
    assert "<svg" in html  # captures per day, drawn by the status page's chart
    assert 'href="/o/testdaily/feed.atom"' in html
    assert client.get("/o/no-such/").status_code == 404


def test_the_outlet_page_shows_what_the_crawler_reports(client: Client, archive, home: Path):
    stats = home / "crawl-stats"
    stats.mkdir()
    now = datetime.now(UTC).timestamp()
    row = {"responses": 40, "errors": 4, "articles": 10, "bytes": 0, "unchanged": 0, "gone": 0}
    (stats / "host-1.json").write_text(
        json.dumps(
            {"host": "host", "pid": 1, "started": now - 86400, "updated": now,
             "per_outlet": {"testdaily": row | {"name": "测试日报", "last_success": now}}}
        ),
        encoding="utf-8",
    )  # fmt: skip
    html = client.get("/o/testdaily/").content.decode()
    assert "抓取错误率" in html and "10%" in html and "4 / 40" in html


def test_the_outlet_index_lists_every_outlet(client: Client, archive):
    html = client.get("/o/").content.decode()
    assert 'href="/o/testdaily/"' in html and "测试日报" in html


def test_the_outlet_feed_is_atom(client: Client, archive):
    response = client.get("/o/testdaily/feed.atom")
    assert response["Content-Type"].startswith("application/atom+xml")
    body = response.content.decode()
    assert "国际航线恢复运营" in body and "五市城际公交开通" in body
    assert client.get("/o/no-such/feed.atom").status_code == 404


def test_the_sitemap_index_names_every_section_and_each_lists_its_pages(client: Client, archive):
    index = client.get("/sitemap.xml")
    assert index["Content-Type"].startswith("application/xml")
    sections = re.findall(r"<loc>([^<]+)</loc>", index.content.decode())
    assert "http://testserver/sitemap-articles.xml" in sections
    articles = client.get("/sitemap-articles.xml").content.decode()
    for article in archive.values():
        assert f"<loc>http://testserver/s/{article.id}</loc>" in articles
    assert "<lastmod>2024-03-05T14:00:00+08:00</lastmod>" in articles
    pages = client.get("/sitemap-pages.xml").content.decode()
    assert "<loc>http://testserver/</loc>" in pages
    assert "http://testserver/o/testdaily/" in client.get("/sitemap-outlets.xml").content.decode()
    assert client.get("/sitemap-nothing.xml").status_code == 404
    assert client.get("/sitemap-articles.xml", {"p": "9"}).status_code == 404


# -- search filters ------------------------------------------------------------------------


def test_search_filters_by_source_and_publish_date(client: Client, archive):
    def titles(**params: str) -> str:
        response = client.get("/search", params)
        assert response.status_code == 200
        return re.sub(r"<[^>]+>", "", response.content.decode())

    assert "五市城际公交开通" in titles(q="城市群", source="测试")
    assert "找到 0 篇" in titles(q="城市群", source="人民网")
    found = titles(q="城市群", after="2024-03-02")
    assert "五市城际公交开通" in found and "推进会举行" not in found
    found = titles(q="城市群", before="2024-03-01")
    assert "推进会举行" in found and "五市城际公交开通" not in found
    found = titles(q="城市群", before="9999-12-31")  # the last day has no next day
    assert "推进会举行" in found and "五市城际公交开通" in found


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"after": "2024-13-01"}, "起始日期应为"),
        ({"before": "昨天"}, "截止日期应为"),
        ({"after": "2024-03-05", "before": "2024-03-01"}, "起始日期晚于截止日期"),
    ],
)
def test_a_bad_search_filter_gets_a_clear_error(client: Client, archive, params, message):
    response = client.get("/search", {"q": "城市群", **params})
    assert response.status_code == 400
    assert message in response.content.decode()


# -- error pages -----------------------------------------------------------------------------


def test_a_missing_page_says_what_happened(client: Client, archive):
    for path in ("/s/999999", "/no/such/page", "/c/no-such/"):
        response = client.get(path)
        assert response.status_code == 404
        html = response.content.decode()
        assert "404 未找到" in html and 'href="/lookup"' in html, path
        assert "matches the given query" not in html
    assert "没有这个类别" in client.get("/c/no-such/").content.decode()


def test_the_410_and_451_pages_name_what_was_removed(rf):
    request = rf.get("/s/1")
    gone = render_to_string("410.html", {"reference": "TD-2024-0007"}, request)
    assert "410 已删除" in gone and "TD-2024-0007" in gone
    blocked = render_to_string("451.html", {"request_number": "TD-2024-0008"}, request)
    assert "451" in blocked and "TD-2024-0008" in blocked


def test_list_pages_answer_conditional_gets_too(client: Client, archive):
    for url in ("/", "/c/guonei/"):
        first = client.get(url)
        assert first.status_code == 200 and first["ETag"]
        assert client.get(url, headers={"If-None-Match": first["ETag"]}).status_code == 304
    assert client.get("/c/guonei/", {"page": "2"})["ETag"] != client.get("/c/guonei/")["ETag"]


def test_a_signed_in_reader_gets_private_pages(client: Client, archive, django_user_model):
    url = f"/s/{archive['c101.html'].id}"
    shared = client.get(url)
    client.force_login(django_user_model.objects.create_user("alice", password="x" * 12))
    own = client.get(url)
    assert own.status_code == 200 and own["Cache-Control"] == "private, no-store"
    # Following a story changes the page without changing the catalogue: no 304 for a reader.
    assert not own.has_header("ETag")
    assert client.get(url, headers={"If-None-Match": shared["ETag"]}).status_code == 200


def test_lookup_lists_the_captures_newest_first_with_a_summary(client: Client, archive, home):
    url = archive["c101.html"].url
    with WarcWriter(home / "warc") as writer:
        write_page(writer, url, b"later", datetime(2024, 4, 1, tzinfo=UTC), status=404)
    ingest(home / "warc", [])
    html = client.get("/lookup", {"url": url}).content.decode()
    assert "已采集 2 次：最早" in html
    listed = html.split('<ol class="captures">', 1)[1]
    assert listed.index("2024-04-01 08:00:00") < listed.index("2024-03-05 14:00:00")


def test_a_cached_page_keeps_the_address_it_was_asked_for(client: Client, archive, settings):
    settings.ALLOWED_HOSTS = ["testserver", "archive.example"]
    url = f"/s/{archive['c101.html'].id}"
    client.get(url)
    html = client.get(url, headers={"Host": "archive.example"}).content.decode()
    assert f'<link rel="canonical" href="http://archive.example{url}">' in html


def test_a_snapshot_waiting_for_a_later_page_says_so_until_it_comes(
    client: Client, home: Path, outlet: Outlet
):
    url = f"{BASE}/gn/2024/0301/c101.html"
    later = url.replace(".html", "_2.html")
    first = Page(url, extra_body=f'<p><a href="{later}">下一页</a></p>')
    second = Page(later, paragraphs=("第二页的内容写在这里，城市群建设继续推进，项目陆续落地。",))
    write_warc(home / "warc", [first], captured_at=datetime(2024, 3, 5, tzinfo=UTC))
    ingest(home / "warc", [outlet])
    page = f"/s/{Article.objects.get().id}"
    before = client.get(page)
    assert "本快照暂缺这部分内容" in before.content.decode()
    write_warc(home / "warc", [second], captured_at=datetime(2024, 3, 5, 0, 1, tzinfo=UTC))
    ingest(home / "warc", [outlet])
    after = client.get(page, headers={"If-None-Match": before["ETag"]})
    assert after.status_code == 200  # the cached page is not served
    html = after.content.decode()
    assert "第二页的内容写在这里" in html and "本快照暂缺这部分内容" not in html
