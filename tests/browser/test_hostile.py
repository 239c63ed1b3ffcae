"""A hostile page on the sample web (script tags, event attributes, ``javascript:`` and
``data:`` links, SVG with script, CSS expressions, frames, forms) is crawled, archived and
shown: in the browser, none of its script runs on the archive's origin, neither on the
snapshot page nor in the raw replay. The control shows the same page does run its scripts
where it came from, so the checks would see it if it did."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest

from kuaizhao.sampleweb.hostile import MARKER

pytestmark = pytest.mark.e2e

DANGEROUS = (
    "script, iframe, object, embed, form, svg, math, base, meta, link, "
    "[onerror], [onload], [onclick], [onmouseover], [ontoggle], [style], [srcdoc]"
)


class Watch:
    """Every sign of script running: dialogs, requests naming the marker, page errors."""

    def __init__(self, page: Any) -> None:
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        page.on("dialog", self._dialog)
        page.context.on("request", self._request)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _request(self, request: Any) -> None:
        # A beacon that went out: a ``javascript:`` address merely refused is no request.
        if MARKER in request.url and request.url.startswith(("http:", "https:")):
            self.requests.append(request.url)

    @property
    def ran(self) -> list[str]:
        return self.dialogs + self.requests


def provoke(page: Any, selector: str) -> None:
    """Hover and click what a reader would: event handlers get every chance to fire."""
    for element in page.locator(selector).all()[:30]:
        if element.is_visible():
            element.hover()
            element.click(modifiers=["Alt"], no_wait_after=True)
    page.wait_for_timeout(500)


def hostile_snapshot(page: Any, site: dict[str, Any]) -> None:
    page.goto(site["url"] + "/lookup?" + urlencode({"url": site["hostile"]["url"]}))
    page.locator("ul.cards a.title").first.click()
    page.wait_for_url(re.compile(r"/s/\d+$"))


def test_the_snapshot_of_a_hostile_page_runs_none_of_its_script(page, site):
    from playwright.sync_api import expect

    watch = Watch(page)
    hostile_snapshot(page, site)
    body = page.locator("article.snapshot .body")
    expect(body).to_contain_text("存档应当原样保存这段文字")
    expect(body).to_contain_text("脚本之后的文字照常显示")
    provoke(page, "article.snapshot .body p, article.snapshot .body div")
    assert body.locator(DANGEROUS).count() == 0
    schemes = body.evaluate(
        "b => [...b.querySelectorAll('a[href], img[src]')]"
        ".map(e => new URL(e.href || e.src, location.href).protocol)"
    )
    assert set(schemes) <= {"http:", "https:"}, schemes
    assert page.evaluate("typeof window.PWNED") == "undefined"
    assert watch.ran == []


def test_the_raw_replay_of_a_hostile_page_runs_none_of_its_script(page, site):
    watch = Watch(page)
    hostile_snapshot(page, site)
    page.locator("aside.notice").get_by_role(
        "link", name="查看采集时的原始网页（存档回放）"
    ).click()
    page.wait_for_url(re.compile(r"/web/\d{14}/"))
    frame = page.frame_locator("iframe.replay")
    frame.locator("body").get_by_text("以上都是恶意代码").wait_for()
    page.wait_for_timeout(1000)  # the page's meta refresh, timers, image errors
    assert page.evaluate("typeof window.PWNED") == "undefined"
    raw = re.sub(r"/web/(\d{14})/", r"/web/\1id_/", page.url)
    page.goto(raw)
    page.wait_for_timeout(1000)
    assert page.evaluate("typeof window.PWNED") == "undefined"
    assert watch.ran == []


def test_the_same_page_at_its_origin_does_run_its_scripts(page, site):
    """The control: on the sample web itself, without the archive, the scripts run."""
    watch = Watch(page)
    page.goto(site["hostile"]["url"])
    page.wait_for_timeout(1000)
    assert page.evaluate("window.PWNED") == 1
    assert watch.dialogs and watch.requests
