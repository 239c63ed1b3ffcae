"""A live site built from the sample web, and Debian's Chromium driven by Playwright.

The archive is made the way a user makes it: the sample web (with one hostile article
published through its control API), ``kuaizhao crawl --once``, then ``kuaizhao serve --prod``
(gunicorn) in its own ``$KUAIZHAO_HOME``; the browser talks to it over loopback.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.chromium import launched
from tests.live_site import crawled_site

ARTICLES = 120
HOSTILE = {
    "hostile": True,
    "outlet": "huaxia",
    "category": "国内",
    "title": "恶意网页测试：快照中的脚本不得运行",
    "text": "本文是一篇用来检验存档安全的测试稿件，正文中夹带了各种恶意代码。\n"
    "存档应当原样保存这段文字，但网页中的脚本、事件属性和危险链接都不得在本站运行。",
}


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("browser-home")
    serve = ("--prod", "--workers", "2")
    with crawled_site(home, articles=ARTICLES, publish=[HOSTILE], serve=serve) as site:
        yield {**site, "hostile": site["published"][0]}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    with launched() as browser:
        yield browser


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        yield page
    finally:
        context.close()


def screenshot_dir(tmp_path: Path) -> Path:
    """Where screenshots go: ``$KUAIZHAO_SCREENSHOTS`` (the README's come from
    ``docs/screenshots``), else the test's temporary directory."""
    chosen = os.environ.get("KUAIZHAO_SCREENSHOTS")
    return Path(chosen) if chosen else tmp_path
