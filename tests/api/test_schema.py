"""schemathesis against ``/api/openapi.json``, run in-process on the WSGI app over a small
archive: whatever it generates, no response is a 5xx and every response matches the
description (status, content type, body)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import positive_data_acceptance

from kuaizhao.api.rest import api
from kuaizhao.lib.outlets import Outlet
from tests.api.conftest import ARTICLE
from tests.api.test_rest import build_site

FULLY_DESCRIBED = {"search", "articles", "lookup", "categories", "outlets"}
"""The operations of kuaizhao/api/rest.py, every status documented: all checks. Routers other
modules add (``api.add_router``) are checked for 5xx until they document theirs too."""
EXAMPLES = 25
"""Per operation and phase: enough to reach every parameter's edges, small enough that the
whole run stays a few seconds."""


def load_schema() -> Any:
    """The description as /api/openapi.json serves it (a test checks they are the same),
    read without a request: the schema is built when the tests are collected, before any
    test database exists."""
    loaded = schemathesis.openapi.from_dict(api.get_openapi_schema())
    loaded.app = WSGIHandler()
    # The site refuses a NUL before any route is chosen, so that 400 is in no operation's
    # description (test_rest.py checks it is JSON); every other character goes.
    loaded.config.generation.update(allow_x00=False, max_examples=EXAMPLES)
    return loaded


schema = load_schema()


@pytest.fixture
def wsgi_archive(home: Path, outlet: Outlet, settings: Any) -> Iterator[dict[str, int]]:
    # The WSGI test client says Host: localhost.
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    # As Django's own test client does: a request must not close the connection that holds
    # the test's transaction (on PostgreSQL it would, being outside autocommit).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield {url: article.pk for url, article in build_site(home, outlet).items()}
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_the_description_is_the_one_served(client: Client, db) -> None:
    assert client.get("/api/openapi.json").json() == json.loads(
        json.dumps(api.get_openapi_schema())
    )


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_matches_its_description(case: Any, wsgi_archive: dict[str, int]) -> None:
    if case.operation.path == "/api/lookup":
        # Not every string is a URL, and no schema says which are: a 400 for one that is not
        # is the documented answer, not a rejected valid request.
        case.call_and_validate(excluded_checks=[positive_data_acceptance])
    elif set(case.operation.tags or ()) <= FULLY_DESCRIBED:
        case.call_and_validate()
    else:
        case.call_and_validate(checks=[not_a_server_error])


@pytest.mark.django_db
def test_real_articles_match_their_description(wsgi_archive: dict[str, int]):
    """Random ids are mostly 404s: check the full answers for every article there is."""
    operations = {
        "/api/articles/{article_id}": lambda pk: {"article_id": pk},
        "/api/articles/{article_id}/versions/{number}": lambda pk: {"article_id": pk, "number": 1},
    }
    for path, parameters in operations.items():
        operation = schema[path]["GET"]
        for pk in wsgi_archive.values():
            case = operation.Case(path_parameters=parameters(pk))
            response = case.call_and_validate()
            assert response.status_code == 200
    lookup = schema["/api/lookup"]["GET"].Case(query={"url": ARTICLE})
    assert len(lookup.call_and_validate().json()["captures"]) == 3
    for query in ({"q": "城市群"}, {"q": "城市群", "order": "time", "category": "guonei"}):
        case = schema["/api/search"]["GET"].Case(query=query)
        assert case.call_and_validate().json()["results"]
    outlet = schema["/api/outlets/{slug}"]["GET"].Case(path_parameters={"slug": "testdaily"})
    assert outlet.call_and_validate().json()["latest"]
