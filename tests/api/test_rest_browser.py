"""The API's interactive docs page works in a real browser (Debian's Chromium, driven by
Playwright) under the site's Content-Security-Policy: Swagger UI comes from our own static
files, renders every operation of /api/openapi.json, and nothing is refused or fetched from
elsewhere."""

from __future__ import annotations

import pytest

from tests.api.test_rest import ENDPOINTS
from tests.chromium import launched

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_docs_page_renders_every_operation(live_server):
    messages: list[str] = []
    requested: list[str] = []
    with launched() as browser:
        page = browser.new_page()
        page.on("console", lambda message: messages.append(message.text))
        page.on("request", lambda request: requested.append(request.url))
        page.goto(f"{live_server.url}/api/docs")
        page.wait_for_selector('[data-path="/api/outlets/{slug}"]', timeout=30_000)
        paths = page.eval_on_selector_all(
            ".opblock-summary-path", "nodes => nodes.map(n => n.dataset.path)"
        )
    assert set(paths) >= ENDPOINTS
    assert not [m for m in messages if "Content Security Policy" in m], messages
    assert all(url.startswith(live_server.url) for url in requested), requested
