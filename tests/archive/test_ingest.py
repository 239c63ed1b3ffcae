from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kuaizhao.archive.ingest import ingest, reset, sync_outlets
from kuaizhao.archive.models import Article, ArticleVersion, Capture, StoryKey, WarcFile
from kuaizhao.archive.models import Outlet as OutletRow
from kuaizhao.lib.outlets import Outlet
from kuaizhao.warc.writer import WarcWriter
from tests.factories import TINY_PNG, Page, write_page, write_warc

pytestmark = pytest.mark.django_db

URL = "http://news.test.example/gn/2024/0301/c101.html"
FIRST = datetime(2024, 3, 5, 6, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_it_turns_a_capture_into_an_article(home: Path, outlet: Outlet):
    write_warc(home / "warc", [Page(URL)])
    stats = ingest(home / "warc", [outlet])
    assert stats.created == 1
    article = Article.objects.get()
    assert article.title == "山西中部城市群高质量发展推进会举行"
    assert article.category == "国内"
    assert article.source == "测试日报"
    assert article.published_at == datetime(2024, 3, 1, 0, 0, tzinfo=UTC)
    assert "二十项政务服务事项跨市通办" in article.body_text
    assert article.outlet is not None and article.outlet.slug == "testdaily"
    assert article.capture.url == URL
    assert "山西中部城市群" in article.key_phrases


def test_it_ignores_pages_that_are_not_articles(home: Path, outlet: Outlet):
    write_warc(home / "warc", [Page("http://news.test.example/gn/index.html")])
    ingest(home / "warc", [outlet])
    assert Capture.objects.count() == 1
    assert not Article.objects.exists()


def test_running_it_twice_adds_nothing(home: Path, outlet: Outlet):
    write_warc(home / "warc", [Page(URL)])
    ingest(home / "warc", [outlet])
    stats = ingest(home / "warc", [outlet])
    assert (stats.files, stats.created) == (0, 0)
    assert Article.objects.count() == 1
    assert WarcFile.objects.count() == 1


def test_a_changed_recapture_is_a_new_version(home: Path, outlet: Outlet):
    write_warc(home / "warc", [Page(URL)])
    later = datetime(2024, 3, 6, tzinfo=UTC)
    write_warc(home / "warc", [Page(URL, title="推进会举行（更新）")], captured_at=later)
    stats = ingest(home / "warc", [outlet])
    article = Article.objects.get()
    assert (stats.created, stats.updated) == (1, 1)
    assert article.title == "推进会举行（更新）"
    assert article.last_captured_at == later
    assert article.capture.captured_at == later
    versions = list(article.versions.order_by("captured_at"))
    assert [v.title for v in versions] == [
        "山西中部城市群高质量发展推进会举行",
        "推进会举行（更新）",
    ]
    assert versions[0].capture.captured_at == FIRST


def test_an_unchanged_recapture_adds_a_capture_but_no_version(home: Path, outlet: Outlet):
    write_warc(home / "warc", [Page(URL)])
    write_warc(home / "warc", [Page(URL)], captured_at=datetime(2024, 3, 6, tzinfo=UTC))
    ingest(home / "warc", [outlet])
    assert Capture.objects.filter(url=URL).count() == 2
    assert ArticleVersion.objects.count() == 1


def test_revisit_records_add_captures_but_no_version(home: Path, outlet: Outlet):
    body = Page(URL).html().encode()
    with WarcWriter(home / "warc") as writer:
        for day in (5, 6, 7):
            write_page(writer, URL, body, datetime(2024, 3, day, tzinfo=UTC))
    ingest(home / "warc", [outlet])
    article = Article.objects.get()
    kinds = list(Capture.objects.order_by("captured_at").values_list("record_type", flat=True))
    assert kinds == ["response", "revisit", "revisit"]
    assert article.versions.count() == 1
    assert article.last_captured_at == datetime(2024, 3, 7, tzinfo=UTC)


def test_a_change_back_is_a_new_version_too(home: Path, outlet: Outlet):
    for day, title in ((5, "第一稿标题在这里"), (6, "第二稿标题在这里"), (7, "第一稿标题在这里")):
        when = datetime(2024, 3, day, tzinfo=UTC)
        write_warc(home / "warc", [Page(URL, title=title)], captured_at=when)
    ingest(home / "warc", [outlet])
    titles = list(ArticleVersion.objects.order_by("captured_at").values_list("title", flat=True))
    assert titles == ["第一稿标题在这里", "第二稿标题在这里", "第一稿标题在这里"]


def test_versions_follow_capture_time_whatever_the_ingest_order(home: Path, outlet: Outlet):
    early, late = datetime(2024, 3, 5, tzinfo=UTC), datetime(2024, 3, 8, tzinfo=UTC)
    write_warc(home / "warc", [Page(URL, title="后来的标题写在这里")], captured_at=late)
    ingest(home / "warc", [outlet])
    write_warc(home / "warc", [Page(URL, title="最初的标题写在这里")], captured_at=early)
    write_warc(home / "warc", [Page(URL, title="后来的标题写在这里")], captured_at=late - DAY)
    ingest(home / "warc", [outlet])
    article = Article.objects.get()
    history = list(article.versions.order_by("captured_at").values_list("title", "captured_at"))
    assert history == [("最初的标题写在这里", early), ("后来的标题写在这里", late - DAY)]
    assert article.title == "后来的标题写在这里"
    assert (article.first_captured_at, article.last_captured_at) == (early, late)


def test_an_identical_recapture_only_moves_the_last_capture_time(home: Path, outlet: Outlet):
    write_warc(home / "warc", [Page(URL)])
    later = datetime(2024, 3, 9, tzinfo=UTC)
    write_warc(home / "warc", [Page(URL)], captured_at=later)
    ingest(home / "warc", [outlet])
    article = Article.objects.get()
    assert article.last_captured_at == later
    assert article.first_captured_at == datetime(2024, 3, 5, 6, 0, tzinfo=UTC)


def test_reindex_rebuilds_the_same_catalogue_from_the_warcs(home: Path, outlet: Outlet):
    pages = [Page(URL), Page(URL.replace("c101", "c102"), title="另一篇报道的标题在这里")]
    write_warc(home / "warc", pages, images={"http://img.test.example/a.png": TINY_PNG})
    ingest(home / "warc", [outlet])
    before = sorted(Article.objects.values_list("surt", "title", "body_text", "published_at"))
    reset()
    assert not Article.objects.exists()
    ingest(home / "warc", [outlet])
    after = sorted(Article.objects.values_list("surt", "title", "body_text", "published_at"))
    assert after == before


def test_a_torn_warc_keeps_its_complete_records(home: Path, outlet: Outlet):
    write_warc(home / "warc", [Page(URL), Page(URL.replace("c101", "c102"), title="第二篇")])
    path = next((home / "warc").iterdir())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    stats = ingest(home / "warc", [outlet])
    assert stats.errors and path.name in stats.errors[0]
    assert Article.objects.filter(surt__endswith="c101.html").exists()


def test_a_news_flash_at_an_article_url_is_kept(home: Path, outlet: Outlet):
    flash = Page(URL, title="快讯：城际公交今起开通", paragraphs=("城际公交今天开通，票价两元。",))
    write_warc(home / "warc", [flash])
    stats = ingest(home / "warc", [outlet])
    assert stats.created == 1
    assert Article.objects.get().body_text == "城际公交今天开通，票价两元。"


def test_one_batch_holds_an_article_its_revisit_and_its_new_version(home: Path, outlet: Outlet):
    """The batch looks up once which articles exist and each URL's newest capture: an article
    made by an earlier capture of the same batch is still found by the later ones."""
    body = Page(URL).html().encode()
    changed = Page(URL, title="推进会举行（更新）").html().encode()
    other = URL.replace("c101", "c102")
    other_body = Page(other, title="另一篇报道的标题在这里").html().encode()
    with WarcWriter(home / "warc") as writer:
        write_page(writer, URL, body, FIRST)
        write_page(writer, URL, body, FIRST + DAY)  # a revisit
        write_page(writer, other, other_body, FIRST)
        write_page(writer, URL, changed, FIRST + 2 * DAY)
    stats = ingest(home / "warc", [outlet])
    assert (stats.created, stats.updated, stats.unchanged) == (2, 1, 1)
    article = Article.objects.get(url=URL)
    assert article.title == "推进会举行（更新）"
    assert (article.first_captured_at, article.last_captured_at) == (FIRST, FIRST + 2 * DAY)
    assert article.versions.count() == 2
    assert StoryKey.objects.filter(article=article).count() == 17  # replaced, not added to


def test_outlet_rows_follow_their_configs(home: Path, outlet: Outlet):
    write_warc(home / "warc", [Page(URL)])
    ingest(home / "warc", [outlet])
    renamed = dataclasses.replace(outlet, name="测试日报网")
    ingest(home / "warc", [renamed])
    row = OutletRow.objects.get(slug=outlet.slug)
    assert row.name == "测试日报网"
    assert sync_outlets([renamed])[outlet.slug].pk == row.pk
    assert OutletRow.objects.count() == 1


def test_a_later_page_is_extracted_ahead_with_its_batch(
    home: Path, outlet: Outlet, monkeypatch: pytest.MonkeyPatch
):
    from kuaizhao.extract import pool

    later = URL.replace(".html", "_2.html")
    first = Page(URL, extra_body=f'<p><a href="{later}">下一页</a></p>')
    second = Page(later, paragraphs=("第二页的内容写在这里，城市群建设继续推进，项目陆续落地。",))
    write_warc(home / "warc", [first, second])
    submitted: list[str] = []
    real = pool.Prefetcher.submit

    def recorded(self: pool.Prefetcher, captures: Any) -> None:
        captures = list(captures)
        submitted.extend(url for _, _, url, _ in captures)
        real(self, captures)

    monkeypatch.setattr(pool.Prefetcher, "submit", recorded)
    ingest(home / "warc", [outlet])
    assert sorted(submitted) == sorted([URL, later])  # not the images, lists or feeds
    article = Article.objects.get()
    assert "第二页的内容写在这里" in article.body_text
    assert "二十项政务服务事项跨市通办" in article.body_text


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: no extraction worker")
def test_the_next_batch_is_extracted_ahead(
    home: Path, outlet: Outlet, monkeypatch: pytest.MonkeyPatch
):
    """Page 2, taken after page 1, falls in the next batch: the worker has it ready when
    page 1's article asks for it, and this process extracts nothing."""
    from kuaizhao.archive import ingest as ingest_module
    from kuaizhao.extract import pool

    first, second = _pages(2)
    write_warc(home / "warc", [first], captured_at=FIRST)
    write_warc(home / "warc", [second], captured_at=FIRST + timedelta(seconds=5))
    in_process: list[str] = []
    real = pool.extract_capture

    def counted(path: str, offset: int, url: str, at: datetime) -> Any:
        in_process.append(url)
        return real(path, offset, url, at)

    monkeypatch.setattr(pool, "extract_capture", counted)
    monkeypatch.setattr(ingest_module, "BATCH", 1)
    ingest(home / "warc", [outlet])
    assert "第2页的内容" in Article.objects.get().body_text
    assert in_process == []


def test_an_ingest_with_nothing_new_merges_what_earlier_ingests_left(home: Path, outlet: Outlet):
    from django.db import connection

    from kuaizhao.archive import searching
    from kuaizhao.sampleweb.text import make_story
    from kuaizhao.search.query import parse

    def found() -> list[int]:
        return [h.article_id for h in searching.backend().search(parse("报道"), per_page=50).hits]

    for i in range(12):  # a new file each time: no merging
        url = URL.replace("c101", f"c{200 + i}")
        story = make_story(1, i, 0, 3, 1)  # a story each: no copies to fold
        text = tuple(b.text for b in story.blocks if not b.image)
        page = Page(url, title=f"{story.title}报道", paragraphs=text)
        write_warc(home / "warc", [page], captured_at=FIRST + i * DAY)
        ingest(home / "warc", [outlet])
    before = found()
    assert len(before) == 12
    sqlite = connection.vendor == "sqlite"  # PostgreSQL's GIN index has no segments to merge
    if sqlite:
        left = searching.backend().segments()
        assert all(max(levels) >= 2 for levels in left.values())
    stats = ingest(home / "warc", [outlet])
    assert (stats.files, stats.created) == (0, 0)  # nothing new: time to merge
    assert found() == before
    if sqlite:
        merged = searching.backend().segments()
        assert all(max(levels) == 1 for levels in merged.values())


def _pages(count: int) -> list[Page]:
    """A ``count``-page article at URL, each page linking to the next by 下一页."""
    urls = [URL] + [URL.replace(".html", f"_{n}.html") for n in range(2, count + 1)]
    pages = []
    for n, url in enumerate(urls, 1):
        link = f'<p><a href="{urls[n]}">下一页</a></p>' if n < count else ""
        words = (f"第{n}页的内容写在这里，城市群建设继续推进，项目陆续落地。",)
        pages.append(
            Page(url, extra_body=link) if n == 1 else Page(url, paragraphs=words, extra_body=link)
        )
    return pages


def test_a_later_page_in_a_later_warc_file_completes_its_article(home: Path, outlet: Outlet):
    """The crawler closes WARC files as it goes: page 2 can land in a file ingested after
    the one holding page 1. Its capture completes the version page 1 made, in place."""
    from kuaizhao.archive import searching
    from kuaizhao.lib.surt import surt
    from kuaizhao.search.query import parse

    first, second, third = _pages(3)

    def found(text: str) -> bool:
        return bool(searching.backend().search(parse(f'"{text}"')).hits)

    write_warc(home / "warc", [first], captured_at=FIRST)
    ingest(home / "warc", [outlet])
    version = ArticleVersion.objects.get()
    assert "第2页的内容" not in version.body_text
    assert version.missing_page == surt(second.url)

    write_warc(home / "warc", [second], captured_at=FIRST + timedelta(seconds=5))
    stats = ingest(home / "warc", [outlet])
    assert (stats.created, stats.updated, stats.completed) == (0, 0, 1)
    version = ArticleVersion.objects.get()  # still one version: page 1's capture, completed
    assert "第2页的内容" in version.body_text and "第3页的内容" not in version.body_text
    assert version.missing_page == surt(third.url)
    assert found("第2页的内容") and not found("第3页的内容")

    write_warc(home / "warc", [third], captured_at=FIRST + timedelta(seconds=9))
    ingest(home / "warc", [outlet])
    version = ArticleVersion.objects.get()
    article = Article.objects.get()
    assert version.missing_page == ""
    assert version.capture.url == URL and article.capture_id == version.capture_id
    assert "二十项政务服务事项跨市通办" in article.body_text
    assert "第2页的内容" in article.body_text and "第3页的内容" in article.body_text
    assert found("第3页的内容")
    completed = article.body_text

    reset()  # reindex, all three files at once: the same article
    ingest(home / "warc", [outlet])
    assert Article.objects.get().body_text == completed
    assert ArticleVersion.objects.get().missing_page == ""


def test_a_completed_version_folds_a_later_one_it_now_equals(home: Path, outlet: Outlet):
    """Page 2 first comes with a re-capture of page 1: that re-capture made a version of its
    own (it had page 2, the first capture did not); completed, the first one equals it."""
    from kuaizhao.archive import searching
    from kuaizhao.search.query import parse

    first, second = _pages(2)
    write_warc(home / "warc", [first], captured_at=FIRST)
    ingest(home / "warc", [outlet])
    with WarcWriter(home / "warc") as writer:
        write_page(writer, first.url, first.html().encode(), FIRST + DAY)
        write_page(writer, second.url, second.html().encode(), FIRST + DAY + timedelta(seconds=5))
    stats = ingest(home / "warc", [outlet])
    assert stats.completed == 1
    version = ArticleVersion.objects.get()  # one version: the first capture's, completed
    article = Article.objects.get()
    assert version.captured_at == FIRST and version.missing_page == ""
    assert article.capture_id == version.capture_id
    assert "第2页的内容" in article.body_text
    assert article.last_captured_at == FIRST + DAY
    hits = searching.backend().search(parse('"第2页的内容"')).hits
    assert [h.article_id for h in hits] == [article.pk]
    completed = article.body_text

    reset()  # reindex: the same single version
    ingest(home / "warc", [outlet])
    assert ArticleVersion.objects.get().captured_at == FIRST
    assert Article.objects.get().body_text == completed


def test_a_completed_version_equal_to_the_one_before_is_dropped(home: Path, outlet: Outlet):
    """A re-capture of page 1 links its page 2 at a new URL: a version of its own until that
    page comes, with the same text as before: then it showed nothing new."""
    first, second = _pages(2)
    moved = f"{URL}?page=2"
    relinked = dataclasses.replace(first, extra_body=f'<p><a href="{moved}">下一页</a></p>')
    write_warc(home / "warc", [first, second], captured_at=FIRST)
    with WarcWriter(home / "warc") as writer:
        write_page(writer, URL, relinked.html().encode(), FIRST + DAY)
    ingest(home / "warc", [outlet])
    assert ArticleVersion.objects.count() == 2
    before, waiting = ArticleVersion.objects.order_by("captured_at")
    assert before.missing_page == "" and waiting.missing_page.endswith("c101.html?page=2")
    with WarcWriter(home / "warc") as writer:
        write_page(writer, moved, second.html().encode(), FIRST + 2 * DAY)
    stats = ingest(home / "warc", [outlet])
    assert stats.completed == 1
    version = ArticleVersion.objects.get()
    article = Article.objects.get()
    assert version.pk == before.pk and article.capture_id == before.capture_id
    assert "第2页的内容" in article.body_text


def test_a_page_that_never_comes_leaves_the_article_as_it_is(home: Path, outlet: Outlet):
    first = _pages(2)[0]
    write_warc(home / "warc", [first], captured_at=FIRST)
    ingest(home / "warc", [outlet])
    before = Article.objects.get().body_text
    write_warc(home / "warc", [Page("http://news.test.example/gn/2024/0301/c102.html")])
    stats = ingest(home / "warc", [outlet])
    assert (stats.created, stats.completed) == (1, 0)
    assert Article.objects.get(capture__url=URL).body_text == before
    assert "第2页的内容" not in before


def test_looking_for_versions_waiting_for_a_page_reads_only_those(home: Path, outlet: Outlet):
    """Each batch asks which of its pages versions wait for: an index lookup, not a scan of
    every version (the index is partial: only versions waiting for a page are in it)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    write_warc(home / "warc", _pages(2)[:1], captured_at=FIRST)
    with CaptureQueriesContext(connection) as queries:
        ingest(home / "warc", [outlet])
    asked = [q["sql"] for q in queries if '"missing_page" IN' in q["sql"]]
    assert asked
    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # a table this small is read whole anyway
            cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in asked:
            cursor.execute(explain + sql)
            plan = " ".join(str(row) for row in cursor.fetchall())
            assert "version_incomplete" in plan, plan
