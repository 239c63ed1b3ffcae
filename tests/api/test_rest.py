"""The JSON API at ``/api/``: every endpoint, its errors, and the takedown rules on each."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client

from kuaizhao.archive.ingest import ingest
from kuaizhao.archive.models import Article
from kuaizhao.lib.outlets import Outlet, parse_outlet
from kuaizhao.lib.surt import surt
from kuaizhao.takedown import visibility
from kuaizhao.takedown.models import Request, Rule
from kuaizhao.warc.records import sha1_digest
from kuaizhao.warc.writer import PriorCapture, WarcWriter
from tests.api.conftest import ARTICLE, BASE, IMG, OTHER, SUB, T1, T2, T3
from tests.conftest import TEST_OUTLET
from tests.factories import TINY_PNG, Page, write_page

pytestmark = pytest.mark.django_db

C102 = f"{BASE}/gn/2024/0302/c102.html"
COPY = "http://other.test.example/gn/2024/0401/c301.html"
T4 = datetime(2024, 4, 2, 8, 0, tzinfo=UTC)
FIRST_TITLE = "山西中部城市群高质量发展推进会举行"
UPDATED_TITLE = "推进会举行（更新）"
SUMMARY_KEYS = {"id", "url", "title", "published_at", "captured_at", "source", "category"}


def other_outlet() -> Outlet:
    return parse_outlet(
        {
            **TEST_OUTLET,
            "slug": "otherdaily",
            "name": "其他日报",
            "home": "http://other.test.example/",
            "scope": ["other.test.example"],
        }
    )


def build_site(home: Path, outlet: Outlet) -> dict[str, Article]:
    """ARTICLE captured three times (the second a revisit, the third a new version) with an
    image; C102, a different story that names ARTICLE's key phrase (related coverage); OTHER
    (国际) and SUB (a subdomain), unrelated; COPY, ARTICLE's story on a second outlet a day
    after its last version."""
    first = Page(ARTICLE, images=[(IMG, "与会人员参观展览。测试日报 李四摄")])
    body = first.html().encode()
    bus = ("山西中部城市群首批城际公交线路今天开通，市民乘车更加方便，票价实行统一标准。",) * 3
    flights = ("多条国际航线本周恢复运营，旅客出行更加便利，航空公司增加了航班密度。",) * 3
    weather = ("本地气象台发布天气预报，明天有小雨，气温略有下降，请市民注意添衣保暖。",) * 3
    others = [
        Page(C102, title="五市城际公交开通", published="2024-03-02 09:30:00", paragraphs=bus),
        Page(OTHER, title="国际航线恢复运营", published="2024-03-03 10:00:00", paragraphs=flights),
        Page(SUB, title="子域名上的报道", published="2024-03-01 07:00:00", paragraphs=weather),
    ]
    with WarcWriter(home / "warc") as writer:
        write_page(writer, ARTICLE, body, T1)
        write_page(writer, IMG, TINY_PNG, T1, mime="image/png")
        for page in others:
            write_page(writer, page.url, page.html().encode(), T1)
    known = {(ARTICLE, sha1_digest(body)): PriorCapture(ARTICLE, T1)}
    with WarcWriter(home / "warc", known_digests=known) as writer:
        write_page(writer, ARTICLE, body, T2)
        changed = Page(ARTICLE, title=UPDATED_TITLE, images=first.images)
        write_page(writer, ARTICLE, changed.html().encode(), T3)
    copy = Page(
        COPY, title=UPDATED_TITLE, source="其他日报", repost_from="测试日报", images=first.images
    )
    with WarcWriter(home / "warc") as writer:
        write_page(writer, COPY, copy.html().encode(), T4, outlet="otherdaily")
    ingest(home / "warc", [outlet, other_outlet()])
    return {a.url: a for a in Article.objects.all()}


@pytest.fixture
def site(home: Path, outlet: Outlet) -> dict[str, Article]:
    return build_site(home, outlet)


def get(client: Client, path: str, status: int = 200, **params: Any) -> Any:
    response = client.get(path, params)
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return response.json()


def block(url: str, *, verb: str = "block", exact: bool = True) -> Rule:
    request = Request.objects.create(
        number="R2024-0042",
        secret="s",
        email_token="t",
        requester="某公司",
        email="legal@example.com",
        urls=url,
        reason="other",
        explanation="x",
        proof="x",
    )
    made = Rule.objects.create(
        surt=surt(url),
        exact=exact,
        verb=verb,
        reason="other",
        created_by="test",
        request=request,
    )
    visibility.sync_due()
    return made


# --- search ---------------------------------------------------------------------------------


def test_search_answers_in_the_documented_shape(client: Client, site):
    found = get(client, "/api/search", q="城市群")
    assert found["total"] == len(found["results"]) == 2  # ARTICLE's story (with COPY), C102
    assert found["exact"] is True and found["page"] == 1 and "城市群" in found["terms"]
    for result in found["results"]:
        assert SUMMARY_KEYS | {"snippet", "copies", "story_id"} <= set(result)
        assert result["snapshot"] == f"/s/{result['id']}"
        assert result["api"] == f"/api/articles/{result['id']}"
    by_url = {r["url"]: r for r in found["results"]}
    hit = by_url[ARTICLE]
    assert hit["title"] == UPDATED_TITLE and "城市群" in hit["snippet"]
    assert hit["source"] == "测试日报" and hit["category"] == "国内"
    assert hit["published_at"] == "2024-03-01T00:00:00Z"  # 08:00 in Beijing
    assert hit["captured_at"] == "2024-04-01T12:30:15Z"
    assert hit["copies"] == 1 and hit["story_id"] == site[ARTICLE].id
    assert by_url[C102]["copies"] == 0


def test_search_filters_by_category_source_and_date(client: Client, site):
    def urls(**params: Any) -> set[str]:
        return {r["url"] for r in get(client, "/api/search", **params)["results"]}

    assert urls(q="航线") == {OTHER}
    assert urls(q="航线", category="guonei") == set()
    assert urls(q="航线", category="国际") == {OTHER}
    assert urls(q="城市群", source="其他") == {COPY}
    assert urls(q="城市群 source:其他") == {COPY}
    assert urls(q="城市群", after="2024-03-02") == {C102}
    assert urls(q="城市群", before="2024-03-01") == {ARTICLE}
    assert urls(q="城市群", category="guoji") == set()
    assert urls(category="guoji") == {OTHER}  # filters alone are a search


def test_the_last_representable_day_is_a_date_like_any_other(client: Client, site):
    everything = {r["url"] for r in get(client, "/api/search", q="城市群")["results"]}
    for params in ({"before": "9999-12-31"}, {"q": "城市群 before:9999-12-31"}):
        found = get(client, "/api/search", **{"q": "城市群", **params})["results"]
        assert {r["url"] for r in found} == everything
    assert get(client, "/api/search", q="城市群", after="9999-12-31")["results"] == []


def test_search_orders_by_time_and_pages(client: Client, site):
    found = get(client, "/api/search", q="城市群", order="time")
    times = [r["published_at"] for r in found["results"]]
    assert times == sorted(times, reverse=True)
    beyond = get(client, "/api/search", q="城市群", page=5)
    assert beyond["results"] == [] and beyond["total"] == found["total"]


def test_an_empty_search_finds_nothing_without_error(client: Client, site):
    assert get(client, "/api/search") == {
        "total": 0,
        "exact": True,
        "page": 1,
        "pages": 1,
        "per_page": 20,
        "terms": [],
        "results": [],
    }


@pytest.mark.parametrize(
    "q",
    [
        '"',
        '"城市',
        "AND OR NOT",
        "OR",
        "-",
        "* ^ : NEAR(",
        "category:nosuch source: after:2024-13-45",
        "'; DROP TABLE archive_article; --",
        "城\u200b市 \ufeff群",
        "\U0001f600 𠀀",
        "<script>alert(1)</script>",
        "%00 %27 \\",
    ],
)
def test_hostile_queries_are_searched_as_text(client: Client, site, q: str):
    found = get(client, "/api/search", q=q)
    assert isinstance(found["total"], int)
    assert Article.objects.count() == 5


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"q": " ".join("一二三四五六七八九")}, 400, "关键词过多"),
        ({"q": "城" * 257}, 422, "256"),
        ({"q": "城", "category": "nosuch"}, 400, "没有这个类别"),
        ({"q": "城", "after": "2024-13-45"}, 422, "date"),
        ({"q": "城", "order": "random"}, 422, "relevance"),
        ({"q": "城", "page": "0"}, 422, "greater than or equal"),
        ({"q": "城", "page": "abc"}, 422, "integer"),
        ({"q": "城", "page": "1001"}, 422, "less than or equal"),
    ],
)
def test_bad_search_parameters_are_clear_json_errors(client: Client, site, params, status, words):
    error = get(client, "/api/search", status, **params)
    assert words in json.dumps(error["detail"], ensure_ascii=False)


# --- one article ----------------------------------------------------------------------------


def test_an_article_carries_every_extracted_field(client: Client, site):
    article = site[ARTICLE]
    data = get(client, f"/api/articles/{article.id}")
    assert data["id"] == article.id and data["url"] == ARTICLE
    assert data["title"] == UPDATED_TITLE
    assert (data["category"], data["category_slug"]) == ("国内", "guonei")
    assert data["published_at"] == "2024-03-01T00:00:00Z"
    assert data["source"] == "测试日报" and data["editor"] == "王五"
    assert data["summary"].startswith("本报太原3月1日电")
    assert "二十项政务服务事项跨市通办" in data["body_text"]
    assert data["key_phrases"] and all(isinstance(p, str) for p in data["key_phrases"])
    assert data["provenance"]["title"]
    assert data["captured_at"] == "2024-04-01T12:30:15Z"
    assert data["first_captured_at"] == "2024-03-05T06:00:00Z"
    assert data["snapshot"] == f"/s/{article.id}"
    (image,) = data["images"]
    assert image["src"] == IMG and image["caption"] == "与会人员参观展览。测试日报 李四摄"
    assert image["archived"] == f"/img?url={quote(IMG, safe='')}"
    assert f'src="{image["archived"].replace("&", "&amp;")}"' in data["body_html"]
    assert IMG not in data["body_html"]


HOSTILE = (
    "<script>alert(1)</script><p onclick='alert(2)'>正文第一段，内容足够长，足以成为正文的一部分。"
    "<a href='javascript:alert(3)'>链接</a><img src=x onerror='alert(4)'></p>"
    "<svg><script>alert(5)</script></svg><p style='width: expression(alert(6))'>"
    "正文第二段，同样足够长，让抽取器把它当作正文而不是页面装饰。</p>"
    "<iframe src='http://evil.example/'></iframe>"
)


def test_a_hostile_page_reaches_the_json_without_anything_active(
    client: Client, home: Path, outlet: Outlet
):
    url = f"{BASE}/gn/2024/0305/c666.html"
    page = Page(url, title="恶意页面", extra_body=HOSTILE)
    with WarcWriter(home / "warc") as writer:
        write_page(writer, url, page.html().encode(), T1)
    ingest(home / "warc", [outlet])
    (article,) = Article.objects.all()
    html = get(client, f"/api/articles/{article.id}")["body_html"].lower()
    assert "正文第二段" in html
    for active in ("<script", "onclick", "onerror", "javascript:", "<svg", "style=", "expression"):
        assert active not in html, active
    assert "<iframe" not in html and "evil.example" not in html


def test_an_article_lists_its_versions_and_captures(client: Client, site):
    article = site[ARTICLE]
    data = get(client, f"/api/articles/{article.id}")
    first, second = data["versions"]
    assert (first["number"], second["number"]) == (1, 2)
    assert first["title"] == "山西中部城市群高质量发展推进会举行"
    assert second["title"] == UPDATED_TITLE
    assert first["content_hash"] != second["content_hash"]
    assert first["diff"] is None
    assert second["diff"] == f"/s/{article.id}/diff?a=1&b=2"
    assert second["snapshot"] == f"/s/{article.id}/v/2"
    assert second["api"] == f"/api/articles/{article.id}/versions/2"
    assert first["replay"] == f"/web/20240305060000/{ARTICLE}"
    times = [c["captured_at"] for c in data["captures"]]
    assert times == ["2024-04-01T12:30:15Z", "2024-03-06T06:00:00Z", "2024-03-05T06:00:00Z"]
    newest, revisit, oldest = data["captures"]
    assert revisit["record_type"] == "revisit" and revisit["digest"] == oldest["digest"]
    assert newest["digest"].startswith("sha1:") and newest["digest"] != oldest["digest"]
    assert newest["replay"] == f"/web/20240401123015/{ARTICLE}"
    assert data["capture"] == newest


def test_an_article_names_its_related_coverage_and_its_story(client: Client, site):
    article = site[ARTICLE]
    data = get(client, f"/api/articles/{article.id}")
    related = data["related"]
    assert related["phrase"] in data["key_phrases"]
    (hit,) = related["hits"]  # C102; not COPY, which is the same story
    assert hit["id"] == site[C102].id and hit["title"] == "五市城际公交开通"
    assert related["phrase"] in hit["snippet"] and hit["published_at"] == "2024-03-02T01:30:00Z"
    story = data["story"]
    assert story["original"]["id"] == article.id
    assert [c["id"] for c in story["copies"]] == [site[COPY].id]
    assert story["outlets"] == 2
    copy = get(client, f"/api/articles/{site[COPY].id}")
    assert copy["repost_from"] == "测试日报"
    assert copy["story"]["original"]["id"] == article.id


def test_an_article_has_an_etag_and_answers_304(client: Client, site):
    path = f"/api/articles/{site[ARTICLE].id}"
    response = client.get(path)
    etag = response["ETag"]
    assert etag.startswith('"') and "max-age=" in response["Cache-Control"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_version_is_immutable(client: Client, site):
    article = site[ARTICLE]
    response = client.get(f"/api/articles/{article.id}/versions/1")
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"] and response["ETag"]
    data = response.json()
    assert data["number"] == 1 and data["versions"] == 2
    assert data["title"] == "山西中部城市群高质量发展推进会举行"
    assert data["captured_at"] == "2024-03-05T06:00:00Z"
    assert data["capture"]["replay"] == f"/web/20240305060000/{ARTICLE}"
    assert get(client, f"/api/articles/{article.id}/versions/2")["title"] == UPDATED_TITLE
    assert "没有这一版" in get(client, f"/api/articles/{article.id}/versions/3", 404)["detail"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/articles/999999", 404),
        ("/api/articles/0", 422),
        ("/api/articles/-1", 422),
        ("/api/articles/abc", 422),
        (f"/api/articles/{10**30}", 422),
        ("/api/articles/999999/versions/1", 404),
        ("/api/nothing-here", 404),
        ("/api/search/", 404),
    ],
)
def test_missing_and_malformed_articles_are_json_errors(client: Client, site, path, status):
    assert get(client, path, status)["detail"]


def test_errors_from_outside_the_api_views_are_json_too(client: Client, site):
    response = client.post("/api/search", {"q": "城"})
    assert response.status_code == 405 and response["Allow"] == "GET"
    assert response.json()["detail"]
    assert get(client, "/api/", 404)["detail"].endswith("/api/docs")
    assert "NUL" in get(client, "/api/search", 400, q="城\x00市")["detail"]
    response = client.get("/api/categories", headers={"Host": "elsewhere.example"})
    assert response.status_code == 400 and response.json()["detail"]
    assert client.get("/c/nosuch/")["Content-Type"].startswith("text/html")  # pages stay HTML


def test_a_server_error_is_still_json(client: Client, site):
    """The one way left to make the API fail: the search index gone from under it."""
    with connection.cursor() as cursor:
        cascade = " CASCADE" if connection.vendor == "postgresql" else ""
        cursor.execute(f"DROP TABLE search_doc{cascade}")
    error = get(client, "/api/search", 500, q="城市群")
    assert "服务器出错" in error["detail"]


# --- lookup ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        ARTICLE,
        "news.test.example/gn/2024/0301/c101.html",
        "https://www.news.test.example/gn/2024/0301/c101.html?utm_source=wx#top",
        "http://m.news.test.example/gn/2024/0301/c101.html?spm=a.b",
        "  HTTP://NEWS.TEST.EXAMPLE:80/gn/2024/0301/c101.html  ",
    ],
)
def test_lookup_finds_every_capture_under_any_spelling(client: Client, site, spelling):
    data = get(client, "/api/lookup", url=spelling)
    assert data["captured"] is True
    assert data["surt"] == "example,test,news)/gn/2024/0301/c101.html"
    times = [c["captured_at"] for c in data["captures"]]
    assert times == sorted(times, reverse=True) and len(times) == 3
    assert [a["id"] for a in data["articles"]] == [site[ARTICLE].id]


def test_lookup_of_a_page_never_captured_says_so(client: Client, site):
    data = get(client, "/api/lookup", url="http://elsewhere.example/a.html")
    assert data["captured"] is False and data["captures"] == [] and data["articles"] == []
    assert data["canonical"] == "http://elsewhere.example/a.html"


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"url": "http://[::1"}, 400),
        ({"url": "http://"}, 400),
        ({}, 422),
        ({"url": "x" * 2001}, 422),
    ],
)
def test_lookup_of_a_bad_url_is_a_clear_error(client: Client, site, params, status):
    assert get(client, "/api/lookup", status, **params)["detail"]


# --- categories and outlets -----------------------------------------------------------------


def test_categories_list_every_category_with_counts(client: Client, site):
    categories = {c["slug"]: c for c in get(client, "/api/categories")}
    assert categories["guonei"]["name"] == "国内" and categories["guonei"]["articles"] == 4
    assert categories["guoji"]["articles"] == 1
    assert categories["guonei"]["latest"] == "/api/categories/guonei/latest"
    assert categories["guonei"]["page"] == "/c/guonei/"


def test_a_category_lists_its_newest_articles_a_page_at_a_time(client: Client, site):
    by_slug = get(client, "/api/categories/guonei/latest")
    by_name = get(client, "/api/categories/国内/latest")
    assert by_slug == by_name
    assert by_slug["total"] == 4 and by_slug["pages"] == 1 and by_slug["per_page"] == 30
    assert [a["url"] for a in by_slug["results"]] == [C102, COPY, ARTICLE, SUB]
    assert all(set(a) >= SUMMARY_KEYS for a in by_slug["results"])
    assert get(client, "/api/categories/guonei/latest", page=2)["results"] == []
    assert get(client, "/api/categories/nosuch/latest", 404)["detail"] == "没有这个类别"
    assert get(client, "/api/categories/guonei/latest", 422, page=-3)["detail"]


def test_outlets_show_counts_and_last_capture(client: Client, site):
    outlets = {o["slug"]: o for o in get(client, "/api/outlets")}
    assert set(outlets) == {"testdaily", "otherdaily"}
    test = outlets["testdaily"]
    assert test["name"] == "测试日报" and test["home"] == "http://news.test.example/"
    assert test["articles"] == 4 and test["captures"] == 7
    assert test["last_capture"] == "2024-04-01T12:30:15Z"
    assert test["first_capture"] == "2024-03-05T06:00:00Z"
    other = get(client, "/api/outlets/otherdaily")
    assert other["articles"] == 1 and other["last_capture"] == "2024-04-02T08:00:00Z"
    assert other["categories"] == {"国内": 1}
    assert [a["url"] for a in other["latest"]] == [COPY]
    assert get(client, "/api/outlets/nosuch", 404)["detail"]


# --- takedown -------------------------------------------------------------------------------


def test_a_blocked_article_is_a_451_naming_the_request(client: Client, site):
    block(ARTICLE)
    article = site[ARTICLE]
    for path in (f"/api/articles/{article.id}", f"/api/articles/{article.id}/versions/1"):
        error = get(client, path, 451)
        assert error["request_number"] == "R2024-0042" and "R2024-0042" in error["detail"]
    assert get(client, "/api/lookup", 451, url=ARTICLE)["request_number"] == "R2024-0042"
    assert ARTICLE not in {r["url"] for r in get(client, "/api/search", q="城市群")["results"]}
    latest = get(client, "/api/categories/guonei/latest")
    assert ARTICLE not in {a["url"] for a in latest["results"]} and latest["total"] == 3
    copy = get(client, f"/api/articles/{site[COPY].id}")
    assert copy["story"]["original"]["id"] == site[COPY].id  # the hidden original is not named
    assert copy["story"]["copies"] == []


def test_an_excluded_article_is_gone_from_every_list(client: Client, site):
    block(C102, verb="exclude")
    assert get(client, f"/api/articles/{site[C102].id}", 404)["detail"]
    lookup = get(client, "/api/lookup", url=C102)
    assert lookup["captured"] is False and lookup["captures"] == []
    assert C102 not in {r["url"] for r in get(client, "/api/search", q="城市群")["results"]}
    assert get(client, f"/api/articles/{site[ARTICLE].id}")["related"]["hits"] == []
    assert {c["slug"]: c["articles"] for c in get(client, "/api/categories")}["guonei"] == 3
    assert get(client, "/api/outlets/testdaily")["articles"] == 3


# --- the description and the docs page -----------------------------------------------------


ENDPOINTS = {
    "/api/search",
    "/api/articles/{article_id}",
    "/api/articles/{article_id}/versions/{number}",
    "/api/lookup",
    "/api/categories",
    "/api/categories/{name}/latest",
    "/api/outlets",
    "/api/outlets/{slug}",
}


def test_the_openapi_description_names_every_endpoint(client: Client, db):
    schema = get(client, "/api/openapi.json")
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) >= ENDPOINTS
    result = schema["components"]["schemas"]["SearchResult"]["properties"]
    assert SUMMARY_KEYS | {"snippet"} <= set(result)


def test_the_docs_page_loads_nothing_from_elsewhere(client: Client, db):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    addresses = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert addresses and all(a.startswith("/static/") for a in addresses), addresses
    assert "script-src 'self'" in response["Content-Security-Policy"]
