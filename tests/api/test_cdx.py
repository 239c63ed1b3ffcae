"""``/cdx`` answers the queries pywb's CDX server answers, in the same formats."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.api.conftest import ARTICLE, BASE, IMG, OTHER, SUB

pytestmark = pytest.mark.django_db


def lines(client: Client, query: str) -> list[str]:
    response = client.get(f"/cdx?{query}")
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content).decode().splitlines()  # type: ignore[attr-defined]


def records(client: Client, query: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in lines(client, query + "&output=json")]


def test_an_exact_query_lists_every_capture_oldest_first(client: Client, archive):
    found = records(client, f"url={ARTICLE}")
    assert [r["timestamp"] for r in found] == ["20240305060000", "20240306060000", "20240401123015"]
    assert [r["mime"] for r in found] == ["text/html", "warc/revisit", "text/html"]
    assert found[0]["urlkey"] == "example,test,news)/gn/2024/0301/c101.html"
    assert found[0]["status"] == "200" and "status" not in found[1]
    assert found[0]["digest"] == found[1]["digest"] != found[2]["digest"]
    assert found[0]["filename"].endswith(".warc.gz") and found[0]["offset"].isdigit()


def test_the_default_output_is_cdxj(client: Client, archive):
    response = client.get(f"/cdx?url={ARTICLE}&limit=1")
    assert response["Content-Type"].startswith("text/x-cdxj")
    (line,) = b"".join(response.streaming_content).decode().splitlines()
    key, timestamp, block = line.split(" ", 2)
    assert (key, timestamp) == ("example,test,news)/gn/2024/0301/c101.html", "20240305060000")
    assert json.loads(block)["url"] == ARTICLE


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (f"url={BASE}/gn/&matchType=prefix", {ARTICLE}),
        (f"url={BASE}/gn/*", {ARTICLE}),
        (f"url={ARTICLE}&matchType=host", {ARTICLE, OTHER}),
        ("url=test.example&matchType=domain", {ARTICLE, OTHER, SUB, IMG}),
        ("url=*.news.test.example", {ARTICLE, OTHER, SUB}),
        ("url=sub.news.test.example/&matchType=host", {SUB}),
    ],
)
def test_match_types(client: Client, archive, query: str, expected: set[str]):
    assert {r["url"] for r in records(client, query)} == expected


def test_from_to_limit_and_sort(client: Client, archive):
    stamps = [r["timestamp"] for r in records(client, f"url={ARTICLE}&from=202403&to=20240306")]
    assert stamps == ["20240305060000", "20240306060000"]
    assert [r["timestamp"] for r in records(client, f"url={ARTICLE}&from=2024040112")] == [
        "20240401123015"
    ]
    assert len(records(client, f"url={ARTICLE}&limit=2")) == 2
    newest = records(client, f"url={ARTICLE}&sort=reverse&limit=1")
    assert newest[0]["timestamp"] == "20240401123015"
    near = records(client, f"url={ARTICLE}&closest=20240330&sort=closest&limit=1")
    assert near[0]["timestamp"] == "20240401123015"


def test_fields_and_filters(client: Client, archive):
    found = records(client, f"url={ARTICLE}&fl=timestamp,mime&filter=!=mime:warc/revisit")
    assert found == [
        {"timestamp": "20240305060000", "mime": "text/html"},
        {"timestamp": "20240401123015", "mime": "text/html"},
    ]
    text = lines(client, f"url={IMG}&output=text&fl=url,status")
    assert text == [f"{IMG} 200"]


def test_no_capture_is_an_empty_answer(client: Client, archive):
    assert lines(client, "url=http://nowhere.example/") == []


@pytest.mark.parametrize(
    "query",
    [
        "",
        "url=",
        "url=http://[::1",
        f"url={ARTICLE}&matchType=everything",
        f"url={ARTICLE}&from=2024x",
        f"url={ARTICLE}&from=20241301",
        f"url={ARTICLE}&to=123",
        f"url={ARTICLE}&limit=-1",
        f"url={ARTICLE}&limit=abc",
        f"url={ARTICLE}&limit=99999999999999999999",
        f"url={ARTICLE}&output=xml",
        f"url={ARTICLE}&fl=secret",
        f"url={ARTICLE}&filter=mime:(a+)+$",
        f"url={ARTICLE}&filter==nosuchfield:1",
        f"url={ARTICLE}&sort=closest",
        f"url={ARTICLE}&sort=sideways",
        f"url={ARTICLE}&url={OTHER}",
        "url=http://example.com/" + "a" * 3000,
    ],
)
def test_a_malformed_query_is_a_clear_400(client: Client, archive, query: str):
    response = client.get(f"/cdx?{query}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.strip()
