"""Whatever is asked of /cdx and /web/, the answer is never a server error."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80) | st.sampled_from(
    ["http://[::1", "*.", "*", "http://", "//", "%", "%zz", "\x00", "javascript:x", "a" * 500]
)
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(
    url=TEXT,
    match=st.sampled_from(["", "exact", "prefix", "host", "domain", "x"]),
    stamp=st.sampled_from(["", "2024", "20240305", "99999999", "x", "2" * 20]),
    output=st.sampled_from(["", "json", "cdxj", "text", "link"]),
)
def test_cdx_never_fails(client: Client, archive, url: str, match: str, stamp: str, output: str):
    query = {"url": url, "matchType": match, "from": stamp, "to": stamp, "output": output}
    response = client.get("/cdx", {k: v for k, v in query.items() if v})
    assert response.status_code in (200, 400)


@SETTINGS
@given(
    prefix=st.sampled_from(["", "timemap/link/", "*/", "2024/", "20240305060000if_/", "1/"]),
    url=TEXT,
    accept=st.sampled_from([None, "yesterday", "Tue, 05 Mar 2024 06:00:00 GMT", "\u2603"]),
)
def test_web_never_fails(client: Client, archive, prefix: str, url: str, accept: str | None):
    headers = {"HTTP_ACCEPT_DATETIME": accept} if accept else {}
    response = client.get("/web/" + prefix + quote(url, safe=":/?&=*"), **headers)
    assert response.status_code in (200, 302, 400, 404)
