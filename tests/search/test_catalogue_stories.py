"""Stories in the catalogue: the sample web's syndicated stories (the 快讯 aggregator reposts
with 本文转自) captured into WARC files, ingested, and grouped as its manifest says; search,
related coverage and the category lists show one entry per story. Runs on SQLite and, with
``KUAIZHAO_DATABASE_URL``, on PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.db import connection, transaction

from kuaizhao.archive import searching
from kuaizhao.archive.ingest import ingest, reset
from kuaizhao.archive.models import Article, StoryKey
from kuaizhao.lib.outlets import Outlet, load_outlets
from kuaizhao.sampleweb.app import App
from kuaizhao.sampleweb.config import write_outlets
from kuaizhao.sampleweb.corpus import Corpus
from kuaizhao.search.query import parse
from kuaizhao.search.stories import BANDS
from kuaizhao.warc.writer import WarcWriter
from tests.factories import write_page

pytestmark = pytest.mark.django_db

ARTICLES = 60
CAPTURE_DELAY = timedelta(minutes=20)


def sample_web(articles: int = ARTICLES, seed: int = 1) -> tuple[App, list[dict[str, Any]]]:
    corpus = Corpus(articles=articles, seed=seed)
    return App(corpus), corpus.manifest()["articles"]


def capture(directory: Path, app: App, entries: list[dict[str, Any]]) -> None:
    """One WARC file with every page of ``entries``, each captured a little after it was
    published (so the original of a story is its earliest capture)."""
    with WarcWriter(directory) as writer:
        for entry in entries:
            when = datetime.fromisoformat(entry["published_at"]) + CAPTURE_DELAY
            for url in entry["pages"]:
                response = app.handle("GET", urlsplit(url).path)
                assert response.status == 200, url
                write_page(
                    writer, url, response.body, when, mime=response.content_type,
                    outlet=entry["outlet"],
                )  # fmt: skip


@pytest.fixture
def outlets(home: Path) -> list[Outlet]:
    write_outlets(home / "outlets", "http://127.0.0.1:8001")
    return load_outlets(home / "outlets")


@pytest.fixture
def archive(home: Path, outlets: list[Outlet]) -> list[dict[str, Any]]:
    app, entries = sample_web()
    capture(home / "warc", app, entries)
    stats = ingest(home / "warc", outlets)
    assert stats.created == len(entries), stats.errors
    return entries


def by_url() -> dict[str, Article]:
    return {a.url: a for a in Article.objects.all()}


def groups(labels: dict[str, object]) -> set[frozenset[str]]:
    found: dict[object, set[str]] = defaultdict(set)
    for key, label in labels.items():
        found[label].add(key)
    return {frozenset(g) for g in found.values()}


def manifest_stories(entries: list[dict[str, Any]]) -> dict[str, str]:
    return {e["url"]: e["story"] for e in entries}


def syndicated(entries: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    stories: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in entries:
        stories[e["story"]].append(e)
    return [sorted(s, key=lambda e: e["published_at"]) for s in stories.values() if len(s) > 1]


def test_ingest_groups_the_sample_webs_syndicated_stories(archive):
    articles = by_url()
    assert groups({url: a.story for url, a in articles.items()}) == groups(
        manifest_stories(archive)
    )
    reposts = [e for e in archive if e["repost_from"]]
    assert reposts and any(e["outlet"] == "kuaixun" for e in reposts)  # 本文转自 copies
    assert any(len(s) > 2 for s in syndicated(archive))
    assert StoryKey.objects.count() == (BANDS + 1) * len(archive)

    # the original is the earliest capture
    articles = by_url()
    for story in syndicated(archive):
        members = [articles[e["url"]] for e in story]
        first = min(members, key=lambda a: (a.first_captured_at, a.pk))
        for article in members:
            assert article.story == first.pk
            assert searching.story_original(article).pk == first.pk
            copies = searching.copies(article)
            assert {a.pk for a in copies} == {m.pk for m in members} - {article.pk}
            assert [a.first_captured_at for a in copies] == sorted(
                a.first_captured_at for a in copies
            )

    single = next(e for e in archive if sum(x["story"] == e["story"] for x in archive) == 1)
    article = by_url()[single["url"]]
    assert searching.copies(article) == []
    assert searching.story_original(article) == article


def test_search_and_related_show_one_entry_per_story(archive):
    story = max(syndicated(archive), key=len)
    articles = by_url()
    by_pk = {a.pk: a for a in articles.values()}
    members = {articles[e["url"]].pk for e in story}
    page = searching.search(parse(f'"{story[0]["title"]}"'))
    shown = [h for h in page.hits if h.article_id in members]
    assert len(shown) == 1
    assert shown[0].article_id == articles[story[0]["url"]].story  # the original is shown
    assert shown[0].copies == len(members) - 1
    hit_stories = {by_pk[h.article_id].story for h in page.hits}
    assert page.total == len(hit_stories) == len(page.hits)
    # related coverage: never the article itself or a copy, one entry per story
    checked = 0
    for story in syndicated(archive):
        members = {articles[e["url"]].pk for e in story}
        for e in story:
            article = articles[e["url"]]
            _, hits = searching.related(article)
            ids = [h.article_id for h in hits]
            assert not members & set(ids)
            stories = [by_pk[i].story for i in ids]
            assert len(stories) == len(set(stories))
            checked += bool(hits)
    assert checked


def test_latest_in_category_is_newest_first_one_per_story(archive):
    articles = by_url()
    story = max(syndicated(archive), key=len)
    category = articles[story[0]["url"]].category
    page = searching.latest_in_category(category, per_page=5)
    listed = []
    for n in range(1, page.paginator.num_pages + 1):
        listed.extend(searching.latest_in_category(category, page=n, per_page=5))
    assert len(listed) == page.paginator.count
    keys = [(a.published_at, a.pk) for a in listed]
    assert keys == sorted(keys, reverse=True)
    assert len({a.story for a in listed}) == len(listed)
    in_category = Article.objects.filter(category=category)
    assert {a.story for a in listed} == set(in_category.values_list("story", flat=True))
    assert all(a.lead and len(a.lead) <= 83 for a in listed)
    for a in listed:  # each story by its earliest member in the category
        earliest = in_category.filter(story=a.story).order_by("first_captured_at", "id").first()
        assert earliest == a
    # the snapshot page's list leaves out the article's own story
    article = articles[story[-1]["url"]]
    listed = searching.latest_in_category(article.category, per_page=1000, exclude=article)
    assert article.story not in {a.story for a in listed}
    assert len(listed) > 0
    # a page beyond the last gives the last
    last = searching.latest_in_category(category, page=9999, per_page=5)
    assert last.number == last.paginator.num_pages
    assert searching.latest_in_category(category, page="x").number == 1


def test_reindex_rebuilds_the_same_stories(archive, home, outlets):
    before = groups({a.url: a.story for a in Article.objects.all()})
    reset()
    assert not StoryKey.objects.exists()
    ingest(home / "warc", outlets)
    assert groups({a.url: a.story for a in Article.objects.all()}) == before


def test_a_copy_ingested_before_its_original_joins_it(home, outlets):
    app, entries = sample_web()
    story = next(s for s in syndicated(entries) if any(e["repost_from"] for e in s[1:]))
    later, first = story[1:], story[:1]
    capture(
        home / "warc", app, later + [e for e in entries if e["story"] != story[0]["story"]][:20]
    )
    ingest(home / "warc", outlets)
    capture(home / "warc", app, first)
    ingest(home / "warc", outlets)
    articles = by_url()
    original = articles[first[0]["url"]]
    assert {articles[e["url"]].story for e in story} == {original.pk}
    # the search index follows: one entry, shown by the original
    page = searching.search(parse(f'"{story[0]["title"]}"'))
    assert [h.article_id for h in page.hits if h.article_id in {a.pk for a in articles.values()}]
    assert sum(h.copies for h in page.hits) >= len(story) - 1


def test_held_index_writes_take_each_story_as_the_block_leaves_it(archive):
    """Ingest holds a batch's index writes to its end (searching.held): a copy saved before
    its original in one block moves into the original's story after it was saved, and is
    indexed in that story."""
    articles = by_url()
    story = max(syndicated(archive), key=len)
    members = [articles[e["url"]] for e in story]  # the original first
    ids = [a.pk for a in members]
    searching.unindex(ids)
    StoryKey.objects.filter(article_id__in=ids).delete()
    Article.objects.filter(pk__in=ids).update(story=None)
    with transaction.atomic(), searching.held():
        for article in [*members[1:], members[0]]:  # the copies first
            article.story = None
            searching.save(article)
        assert not searching.search(parse(f'"{story[0]["title"]}"')).hits  # not yet
    assert set(Article.objects.filter(pk__in=ids).values_list("story", flat=True)) == {ids[0]}
    page = searching.search(parse(f'"{story[0]["title"]}"'))
    shown = [h for h in page.hits if h.article_id in ids]
    assert [(h.article_id, h.copies) for h in shown] == [(ids[0], len(ids) - 1)]


def test_held_index_writes_leave_out_what_was_unindexed_meanwhile(archive):
    article = by_url()[archive[0]["url"]]
    with transaction.atomic(), searching.held():
        searching.save(article)
        searching.unindex([article.pk])  # hidden by a rule, say
    assert article.pk not in {
        h.article_id for h in searching.search(parse(f'"{article.title}"')).hits
    }


def test_a_batch_is_one_segment_in_each_fts5_table(archive):
    """SQLite flushes an FTS5 table's pending rows to a new segment whenever a later write
    of the same transaction opens a statement journal (Django's INSERT … RETURNING): written
    as each article came, the 60 articles of this batch left 14 or 15 segments a table."""
    if connection.vendor != "sqlite":
        pytest.skip("segments are SQLite's FTS5")
    assert searching.backend().segments() == {
        "search_fts": [1], "search_titles": [1], "search_words": [1]
    }  # fmt: skip


def test_the_migration_groups_articles_already_in_the_catalogue(archive):
    expected = groups({a.url: a.story for a in Article.objects.all()})
    StoryKey.objects.all().delete()
    Article.objects.update(story=None, minhash=b"")
    group = __import__("kuaizhao.archive.migrations.0005_stories", fromlist=["group"]).group
    editor = SimpleNamespace(connection=connection, execute=connection.cursor().execute)
    group(apps, editor)
    assert groups({a.url: a.story for a in Article.objects.all()}) == expected
    story = max(syndicated(archive), key=len)
    page = searching.search(parse(f'"{story[0]["title"]}"'))
    assert max(h.copies for h in page.hits) == len(story) - 1
