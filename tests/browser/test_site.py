"""A reader's walk through the site in a real browser: home, a category, a snapshot with every
element of the seed page, a related item, search and URL lookup; screenshots of the snapshot
page at desktop and phone widths."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.browser.conftest import screenshot_dir

pytestmark = pytest.mark.e2e


def chosen(site: dict[str, Any]) -> dict[str, Any]:
    """A syndicated article with a 转自 line and a captioned image: it shows every element."""
    stories = Counter(e["story"] for e in site["manifest"])
    entries = [e for e in site["manifest"] if e["repost_from"] and e["images"]]
    entries.sort(key=lambda e: (-stories[e["story"]], e["url"]))
    assert entries, "the sample web has no reposted article with images"
    return entries[0]


def open_snapshot(page: Any, site: dict[str, Any], url: str) -> None:
    page.goto(site["url"] + "/lookup?" + urlencode({"url": url}))
    page.locator("ul.cards a.title").first.click()
    page.wait_for_url(re.compile(r"/s/\d+$"))


def test_a_reader_goes_from_the_home_page_through_a_category_to_a_snapshot(page, site):
    from playwright.sync_api import expect

    page.goto(site["url"] + "/")
    expect(page.locator("h1")).to_have_text("资讯信息快照")
    expect(page.locator("form.lookup input[name=url]")).to_be_visible()
    expect(page.locator("header form.search input[name=q]")).to_be_visible()
    page.locator("nav.categories").get_by_role("link", name="国内", exact=True).click()
    page.wait_for_url(re.compile(r"/c/guonei/$"))
    expect(page.locator("h1")).to_have_text("国内")
    first = page.locator("ul.cards a.title").first
    title = first.inner_text()
    first.click()
    page.wait_for_url(re.compile(r"/s/\d+$"))
    expect(page.locator("article.snapshot h1")).to_have_text(title)
    expect(page.locator("article.snapshot > p.meta")).to_contain_text("类别:国内")


def test_the_snapshot_page_shows_every_element_of_the_seed(page, site):
    from playwright.sync_api import expect

    entry = chosen(site)
    open_snapshot(page, site, entry["url"])
    notice = page.locator("aside.notice")
    visible = [
        page.locator("nav.categories").get_by_role("link", name="我的订阅"),
        page.locator("nav.categories").get_by_role("link", name=entry["category"], exact=True),
        page.locator("article.snapshot h1"),
        page.locator("article.snapshot > p.meta").get_by_text(f"类别:{entry['category']}"),
        page.locator("article.snapshot > p.meta").get_by_text("发布时间:"),
        page.locator("article.snapshot > p.meta").get_by_text(f"来源:{entry['source']}"),
        page.locator(".repost"),
        page.locator(".snapshot .body img").first,
        page.locator(".snapshot .body").get_by_text(entry["images"][0]["caption"]).first,
        notice.get_by_text("本站未对信息做任何修改"),
        notice.get_by_text("快照生成时间:"),
        notice.get_by_role("link", name="联系我们进行删除", exact=True),
        page.locator("a.original"),
        page.locator("section.related li").first,
        page.get_by_role("heading", name=f"更多关于{entry['category']}的资讯:"),
        page.locator("section.more-in-category li").first,
        # what readers of archives ask for besides
        page.locator("p.carried"),
        page.locator("section.story li").first,
        page.locator("p.digest code"),
        notice.get_by_role("link", name="查看采集时的原始网页（存档回放）"),
        page.locator("section.versions"),
    ]
    for locator in visible:
        expect(locator).to_be_visible()
    expect(page.locator("article.snapshot h1")).to_have_text(entry["title"])
    expect(page.locator(".repost")).to_have_text(f"本文转自:{entry['repost_from']}")
    expect(page.locator("a.original")).to_have_attribute("href", entry["url"])
    expect(page.locator(".snapshot .body")).to_contain_text(entry["body"][-1][:20])
    expect(page.locator("p.digest code")).to_have_text(re.compile(r"^sha1:[A-Z0-9]{32}$"))
    expect(page.locator("section.related time").first).to_have_text(
        re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
    )
    # images come from the archive, and they did load
    src = page.locator(".snapshot .body img").first.get_attribute("src")
    assert src is not None and src.startswith("/img?url=")
    assert page.locator(".snapshot .body img").first.evaluate("i => i.naturalWidth") > 0
    # provenance on hover (the title attribute), and spelled out for touch screens
    source = page.locator("article.snapshot > p.meta span", has_text="来源:")
    source.hover()
    assert (source.get_attribute("title") or "").startswith("取自：")
    page.locator("details.provenance summary").click()
    expect(page.locator("details.provenance dl")).to_contain_text("来源")


def test_a_reader_follows_related_coverage_to_another_snapshot(page, site):
    from playwright.sync_api import expect

    open_snapshot(page, site, chosen(site)["url"])
    here = page.url
    link = page.locator("section.related a.title").first
    title = link.inner_text()
    link.click()
    page.wait_for_url(re.compile(r"/s/\d+$"))
    assert page.url != here
    if title:
        expect(page.locator("article.snapshot h1")).to_have_text(title)
    expect(page.get_by_text("快照生成时间:")).to_be_visible()


def test_a_reader_searches_and_narrows_by_category(page, site):
    from playwright.sync_api import expect

    entry = chosen(site)
    page.goto(site["url"] + "/")
    box = page.locator("header form.search input[name=q]")
    box.fill(f'"{entry["title"]}"')
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?"))
    expect(page.locator("ol.results a.title").first).to_have_text(entry["title"])
    form = page.locator("form.search-full")
    form.locator("select[name=category]").select_option(label=entry["category"])
    form.get_by_role("button", name="搜索").click()
    page.wait_for_url(re.compile(r"category="))
    metas = page.locator("ol.results p.meta").all_inner_texts()
    assert metas and all(m.startswith(entry["category"]) for m in metas)


def test_a_reader_looks_a_url_up_and_gets_its_captures_or_a_clear_no(page, site):
    from playwright.sync_api import expect

    entry = chosen(site)
    spelled = entry["url"].removeprefix("http://") + "?utm_source=weixin#comments"
    page.goto(site["url"] + "/")
    page.locator("#lookup-url").fill(spelled)
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(re.compile(r"/lookup\?"))
    expect(page.locator("ul.cards a.title").first).to_have_text(entry["title"])
    expect(page.locator("ol.captures li").first).to_contain_text("HTTP 200")
    page.locator("#lookup-url").fill(site["sample"] + "never/published.html")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_text("尚未收录")).to_be_visible()


@pytest.mark.parametrize(("name", "width", "height"), [("desktop", 1280, 900), ("phone", 390, 844)])
def test_screenshots_of_the_snapshot_page(browser, site, tmp_path: Path, name, width, height):
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="zh-CN", device_scale_factor=1
    )
    try:
        page = context.new_page()
        open_snapshot(page, site, chosen(site)["url"])
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than a {width}px screen"
        out = screenshot_dir(tmp_path)
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"snapshot-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000
    finally:
        context.close()
