"""Memento (RFC 7089): TimeGate, TimeMap and mementos, checked against the RFC's rules with
a link-format parser."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest
from django.test import Client

from kuaizhao.archive.models import Article
from tests.api.conftest import ARTICLE, IMG, T1, T2, T3
from tests.api.linkformat import Link, by_rel, parse_links

pytestmark = pytest.mark.django_db

HOST = "http://testserver"


def http_date(text: str) -> datetime:
    assert text.endswith(" GMT"), text  # RFC 7089 2.1.1: IMF-fixdate, always GMT
    moment = parsedate_to_datetime(text)
    assert moment.tzinfo is not None
    return moment.astimezone(UTC)


def one(links: list[Link], rel: str) -> Link:
    found = by_rel(links, rel)
    assert len(found) == 1, (rel, links)
    return found[0]


def test_the_timegate_redirects_to_the_closest_memento(client: Client, archive):
    response = client.get(f"/web/{ARTICLE}", HTTP_ACCEPT_DATETIME="Tue, 05 Mar 2024 12:00:00 GMT")
    assert response.status_code == 302
    assert response["Location"] == f"{HOST}/web/20240305060000/{ARTICLE}"
    assert "accept-datetime" in response["Vary"].lower()
    assert "Memento-Datetime" not in response
    links = parse_links(response["Link"])
    assert one(links, "original").target == ARTICLE
    timemap = one(links, "timemap")
    assert timemap.target == f"{HOST}/web/timemap/link/{ARTICLE}"
    assert timemap.params["type"] == "application/link-format"
    memento = one(links, "memento")
    assert memento.target == response["Location"]
    assert http_date(memento.params["datetime"]) == T1


def test_without_accept_datetime_the_timegate_picks_the_newest(client: Client, archive):
    response = client.get(f"/web/{ARTICLE}")
    assert response["Location"] == f"{HOST}/web/20240401123015/{ARTICLE}"


def test_a_memento_says_when_and_what_it_is(client: Client, archive):
    response = client.get(f"/web/20240306060000/{ARTICLE}")
    assert response.status_code == 200
    assert http_date(response["Memento-Datetime"]) == T2
    links = parse_links(response["Link"])
    assert one(links, "original").target == ARTICLE
    assert one(links, "timegate").target == f"{HOST}/web/{ARTICLE}"
    assert one(links, "timemap").params["type"] == "application/link-format"
    assert one(links, "memento").target == f"{HOST}/web/20240306060000/{ARTICLE}"


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("20240305", "20240305060000"),
        ("20240306070000", "20240306060000"),
        ("2025", "20240401123015"),
        ("1999", "20240305060000"),
    ],
)
def test_a_wayback_address_redirects_to_the_closest_capture(
    client: Client, archive, stamp: str, expected: str
):
    response = client.get(f"/web/{stamp}/{ARTICLE}")
    assert response.status_code == 302
    assert response["Location"] == f"/web/{expected}/{ARTICLE}"


def test_the_timemap_lists_every_memento(client: Client, archive):
    response = client.get(f"/web/timemap/link/{ARTICLE}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/link-format"
    links = parse_links(response.content.decode())
    assert one(links, "original").target == ARTICLE
    assert one(links, "timegate").target == f"{HOST}/web/{ARTICLE}"
    me = one(links, "self")
    assert me.params["type"] == "application/link-format"
    assert http_date(me.params["from"]) == T1 and http_date(me.params["until"]) == T3
    mementos = by_rel(links, "memento")
    assert [http_date(m.params["datetime"]) for m in mementos] == [T1, T2, T3]
    assert "first" in mementos[0].rels and "last" in mementos[-1].rels
    for memento in mementos:  # each memento URI answers with its own datetime
        path = memento.target.removeprefix(HOST)
        answer = client.get(path)
        assert http_date(answer["Memento-Datetime"]) == http_date(memento.params["datetime"])


def test_the_capture_list_page(client: Client, archive):
    response = client.get(f"/web/*/{ARTICLE}")
    html = response.content.decode()
    assert response.status_code == 200
    for stamp in ("20240305060000", "20240306060000", "20240401123015"):
        assert f'href="/web/{stamp}/{ARTICLE}"' in html
    assert "内容未变" in html


def test_the_snapshot_page_is_a_memento_too(client: Client, archive):
    article = Article.objects.get(url=ARTICLE)
    response = client.get(f"/s/{article.id}")
    assert http_date(response["Memento-Datetime"]) == T3
    links = parse_links(response["Link"])
    assert one(links, "original").target == ARTICLE
    assert one(links, "timegate").target == f"{HOST}/web/{ARTICLE}"
    assert one(links, "timemap").target == f"{HOST}/web/timemap/link/{ARTICLE}"
    old = client.get(f"/s/{article.id}/v/1")
    assert http_date(old["Memento-Datetime"]) == T1


def test_unknown_urls_are_404_with_links(client: Client, archive):
    assert client.get("/web/http://nowhere.example/").status_code == 404
    assert client.get("/web/timemap/link/http://nowhere.example/").status_code == 404
    assert client.get("/web/20240101000000/http://nowhere.example/").status_code == 404
    assert client.get(f"/web/*/{IMG}x").status_code == 404


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/web/", {}),
        (f"/web/{ARTICLE}", {"HTTP_ACCEPT_DATETIME": "yesterday"}),
        (f"/web/{ARTICLE}", {"HTTP_ACCEPT_DATETIME": "Tue, 99 Foo 2024 99:00:00 GMT"}),
        ("/web/20241399000000/" + ARTICLE, {}),
        ("/web/123/" + ARTICLE, {}),
        ("/web/20240305060000zz_/" + ARTICLE, {}),
        ("/web/javascript:alert(1)", {}),
        ("/web/http://[::1", {}),
        ("/web/timemap/link/", {}),
        ("/web/*/", {}),
        ("/web/http://example.com/" + "a" * 3000, {}),
        ("/web/timemap/link/http://example.com/a%20b", {}),
    ],
)
def test_malformed_requests_are_clear_400s(client: Client, archive, path: str, headers):
    response = client.get(path, **headers)
    assert response.status_code == 400, (path, response.status_code)
    assert response.content.strip()


def test_folded_slashes_still_find_the_page(client: Client, archive):
    folded = ARTICLE.replace("http://", "http:/")
    assert client.get(f"/web/20240305060000/{folded}").status_code == 200


@pytest.mark.parametrize("tail", ["%0D%0ASet-Cookie:%20x=1", "%0Dx", "a%00b", "%09tab"])
def test_control_characters_never_reach_a_header(client: Client, archive, tail: str):
    for prefix in ("", "20240305060000/", "timemap/link/"):
        response = client.get(f"/web/{prefix}http://example.com/{tail}")
        assert response.status_code in (400, 404)
        assert "Set-Cookie" not in response and "Link" not in response
