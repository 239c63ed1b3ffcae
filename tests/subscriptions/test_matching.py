"""Matching at ingest: follows of every kind, once per story, edits, takedown."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import User

from kuaizhao.archive.models import Article, Outlet
from kuaizhao.lib.surt import surt
from kuaizhao.subscriptions import follows, matching
from kuaizhao.subscriptions.models import Match
from kuaizhao.subscriptions.views import visible_matches
from kuaizhao.takedown import visibility
from kuaizhao.takedown.models import Rule
from tests.subscriptions.conftest import page

pytestmark = pytest.mark.django_db

RAIL = "城际铁路今天正式开通运营，沿线市民出行更加方便快捷。"
FLIGHT = "多条国际航线本周恢复运营，旅客出行更加便利。"


@pytest.fixture
def alice() -> User:
    return User.objects.create_user("alice@example.org", "alice@example.org", "pw-alice-1")


@pytest.fixture
def bob() -> User:
    return User.objects.create_user("bob@example.org", "bob@example.org", "pw-bob-12")


def test_a_keyword_follow_hears_of_a_story_once_however_many_copies(
    publish: Any, alice: User, bob: User
) -> None:
    follows.create(alice, "query", "城际铁路 -地铁")
    follows.create(bob, "query", "航线")
    first = publish([page(1, "城际铁路开通", RAIL)])[0]
    publish([page(2, "城际铁路开通", RAIL)], datetime(2024, 3, 6, tzinfo=UTC))  # a copy
    publish([page(3, "航线恢复", FLIGHT, section="gj")])
    mine = Match.objects.filter(user=alice)
    assert [(m.article_id, m.kind) for m in mine] == [(first.id, "new")]
    assert [m.article.title for m in Match.objects.filter(user=bob)] == ["航线恢复"]


def test_category_and_outlet_follows(publish: Any, alice: User, bob: User) -> None:
    Outlet.objects.create(slug="testdaily", name="测试日报", home="http://news.test.example/")
    follows.create(alice, "category", "guoji")
    follows.create(bob, "outlet", "testdaily")
    publish([page(1, "城际铁路开通", RAIL), page(3, "航线恢复", FLIGHT, section="gj")])
    assert {m.article.title for m in Match.objects.filter(user=alice)} == {"航线恢复"}
    assert {m.article.title for m in Match.objects.filter(user=bob)} == {"城际铁路开通", "航线恢复"}


def test_a_followed_story_alerts_on_an_edit_with_the_diff_link(
    publish: Any, alice: User, client: Any
) -> None:
    article = publish([page(1, "城际铁路开通", RAIL)])[0]
    follows.create(alice, "story", str(article.id))
    assert not Match.objects.exists()
    publish([page(1, "城际铁路开通（更新）", RAIL)], datetime(2024, 3, 7, tzinfo=UTC))
    alert = Match.objects.get(user=alice)
    assert (alert.kind, alert.article_id, alert.version) == ("edit", article.id, 2)
    client.force_login(alice)
    html = client.get("/subscriptions").content.decode()
    assert "内容修改" in html and "城际铁路开通（更新）" in html
    opened = client.get(f"/subscriptions/m/{alert.id}")
    assert opened["Location"] == f"/s/{article.id}/diff"
    assert Match.objects.get(id=alert.id).read


def test_new_coverage_of_a_followed_story(publish: Any, alice: User) -> None:
    article = publish([page(1, "城际铁路开通", RAIL)])[0]
    follows.create(alice, "story", str(article.id))
    copy = publish([page(2, "城际铁路开通", RAIL)], datetime(2024, 3, 6, tzinfo=UTC))[0]
    assert [(m.kind, m.article_id, m.story) for m in Match.objects.filter(user=alice)] == [
        ("coverage", copy.id, article.id)
    ]


def test_a_removed_follow_stops_matching_and_no_follow_costs_nothing(
    publish: Any, alice: User, django_assert_max_num_queries: Any
) -> None:
    made, _ = follows.create(alice, "query", "城际铁路")
    made.delete()
    publish([page(1, "城际铁路开通", RAIL)])
    assert not Match.objects.exists()
    article = Article.objects.get()
    with django_assert_max_num_queries(1):
        matching.on_article_saved(Article, article=article, created=True, new_version=False)


def test_a_taken_down_article_is_never_matched_and_disappears_from_matches(
    publish: Any, alice: User
) -> None:
    follows.create(alice, "query", "开通 OR 航线")
    article = publish([page(1, "城际铁路开通", RAIL)])[0]
    assert Match.objects.filter(user=alice).count() == 1
    Rule.objects.create(
        surt=article.surt, exact=True, verb="exclude", reason="privacy", created_by="ops"
    )
    visibility.sync_due()
    assert not visible_matches(alice).exists()
    hidden = page(3, "航线恢复", FLIGHT, section="gj")
    Rule.objects.create(
        surt=surt(hidden.url),
        exact=True,
        verb="exclude",
        reason="privacy",
        created_by="ops",
    )
    publish([hidden])
    assert Article.objects.filter(title="航线恢复").exists()
    assert not visible_matches(alice).exists()


def test_keyword_matching_agrees_with_search(publish: Any, alice: User) -> None:
    """The percolator's idea of a match is the search engine's."""
    from kuaizhao.archive import searching
    from kuaizhao.search.query import parse
    from kuaizhao.subscriptions.percolate import compile_query

    articles = publish(
        [
            page(1, "城际铁路开通", RAIL),
            page(3, "航线恢复", FLIGHT, section="gj"),
            page(4, "５Ｇ基站建成", "全市５Ｇ基站建成投用，网络覆盖更加完善。"),
        ]
    )
    for text in ("开通", "航线 OR 铁路", "5g", "-航线 出行", '"市民 出行"', "category:国际 出行"):
        found = {h.article_id for h in searching.search(parse(text)).hits}
        rule = compile_query(text)
        assert {a.id for a in articles if rule.matches(matching.document(a))} == found, text


def test_a_reindex_is_news_to_nobody(publish: Any, alice: User) -> None:
    from kuaizhao.archive import signals

    follows.create(alice, "query", "铁路")
    with signals.quiet():
        publish([page(1, "城际铁路开通", RAIL)])
    assert not Match.objects.exists()
    publish([page(2, "另一条铁路开通", RAIL + "新线")])
    assert Match.objects.count() == 1
