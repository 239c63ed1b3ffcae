"""In a real browser (Debian's Chromium driven by Playwright): from a snapshot page, a reader
signs up, confirms the address from the email a real SMTP server received, follows the story
and then finds its edit in a working private feed and in a digest email."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import feedparser
import pytest
from django.db import connections

from kuaizhao.subscriptions import delivery
from tests.chromium import launched
from tests.subscriptions.conftest import Mailbox, page

RAIL = "城际铁路今天正式开通运营，沿线市民出行更加方便快捷。"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def browser_page(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # Playwright's synchronous API runs an event loop in this thread; the ORM calls the test
    # makes between browser steps are still plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with launched() as browser:
        try:
            yield browser.new_page()
        finally:
            # the ORM's connections made while the browser ran live in its context: close
            # them here, before the browser, or PostgreSQL keeps the test database busy at
            # teardown
            connections.close_all()


def test_from_a_snapshot_page_to_a_working_feed_and_email(
    live_server: Any, browser_page: Any, mailbox: Mailbox, publish: Any, settings: Any
) -> None:
    settings.KUAIZHAO_SITE_URL = live_server.url
    article = publish([page(1, "城际铁路开通", RAIL)])[0]
    tab = browser_page
    tab.goto(f"{live_server.url}/s/{article.id}")
    tab.click("text=＋ 关注此报道")  # not signed in: the login page, then sign up
    tab.click("text=注册")
    tab.fill("input[name=email]", "reader@example.org")
    tab.fill("input[name=password1]", "a long password")
    tab.fill("input[name=password2]", "a long password")
    tab.click("button[type=submit]:has-text('注册')")
    tab.wait_for_url(re.compile(rf"/s/{article.id}$"))  # back where the reader was

    tab.click("button:has-text('关注此报道')")
    tab.wait_for_url(re.compile(rf"/s/{article.id}$"))

    [confirmation] = mailbox.to("reader@example.org")
    link = re.search(r"http://\S+/account/confirm/\S+", Mailbox.text(confirmation))
    assert link
    tab.goto(link.group(0))
    assert "邮箱已确认" in tab.content()

    tab.goto(f"{live_server.url}/subscriptions")
    assert "城际铁路开通" in tab.inner_text("section.follows")
    tab.select_option("select[name=digest]", "immediate")
    tab.click("button:has-text('保存设置')")
    assert "设置已保存" in tab.content()

    publish([page(1, "城际铁路开通（更新）", RAIL)], datetime(2024, 3, 7, tzinfo=UTC))
    tab.goto(f"{live_server.url}/subscriptions")
    assert "内容修改" in tab.inner_text("section.matches")
    feed_url = tab.get_attribute("#my-feed", "href")
    assert feed_url and feed_url.startswith(live_server.url)

    with urllib.request.urlopen(feed_url, timeout=30) as response:
        feed = feedparser.parse(response.read())
    assert not feed.bozo and feed.version == "atom10"
    [entry] = feed.entries
    assert entry.title == "【内容修改】城际铁路开通（更新）"
    assert entry.link == f"{live_server.url}/s/{article.id}/diff"
    tab.goto(entry.link)
    assert "城际铁路开通（更新）" in tab.content()

    assert delivery.deliver().emails == 1
    digest = mailbox.messages[-1]
    assert digest["To"] == "reader@example.org"
    assert f"{live_server.url}/s/{article.id}/diff" in Mailbox.text(digest)
