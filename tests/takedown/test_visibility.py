from __future__ import annotations

from pathlib import Path

import pytest
from django.http import Http404

from kuaizhao.archive import searching
from kuaizhao.archive.ingest import ingest
from kuaizhao.archive.models import Article
from kuaizhao.lib.outlets import Outlet
from kuaizhao.lib.surt import surt
from kuaizhao.search.query import parse
from kuaizhao.takedown import visibility
from kuaizhao.takedown.models import Hidden, Rule
from tests.factories import Page, write_warc

pytestmark = pytest.mark.django_db

BASE = "http://news.test.example"
A = f"{BASE}/gn/2024/0301/c101.html"
B = f"{BASE}/gn/2024/0302/c102.html"
C = f"{BASE}/gj/2024/0303/c103.html"


@pytest.fixture
def articles(home: Path, outlet: Outlet) -> dict[str, Article]:
    pages = [
        Page(A),
        Page(B, title="五市城际公交开通", paragraphs=("城际公交线路今天开通，市民乘车方便。",) * 3),
        Page(
            C,
            title="国际航线恢复运营",
            paragraphs=("多条国际航线本周恢复运营，旅客出行便利。",) * 3,
        ),
    ]
    write_warc(home / "warc", pages)
    ingest(home / "warc", [outlet])
    return {a.url: a for a in Article.objects.all()}


def rule(prefix: str, verb: str, *, exact: bool = False, **kwargs: object) -> Rule:
    made = Rule.objects.create(
        surt=surt(prefix), exact=exact, verb=verb, reason="other", created_by="test", **kwargs
    )
    visibility.sync_due()
    return made


def public_urls() -> set[str]:
    return set(visibility.public(Article.objects.all()).values_list("url", flat=True))


def test_no_rules_everything_public(articles):
    assert public_urls() == {A, B, C}
    for url in (A, B, C):
        visibility.guard(url)
        assert visibility.visible_url(url)
    visibility.guard("not a url at all [")


def test_most_specific_rule_wins(articles):
    rule(f"{BASE}/gn/", "block")
    assert public_urls() == {C}
    with pytest.raises(visibility.Blocked) as info:
        visibility.guard(A)
    assert info.value.request_number.startswith("R")
    rule(A, "allow", exact=True)
    assert public_urls() == {A, C}
    visibility.guard(A)
    rule(f"{BASE}/", "exclude")
    assert public_urls() == {A}  # /gn/ block is still more specific than the host exclude
    with pytest.raises(Http404):
        visibility.guard(C)
    with pytest.raises(visibility.Blocked):
        visibility.guard(B)


def test_hidden_articles_leave_the_search_index_and_come_back(articles):
    before = searching.search(parse("航线")).total
    assert before == 1
    made = rule(C, "exclude", exact=True)
    assert searching.search(parse("航线")).total == 0
    assert Hidden.objects.count() == 1
    from django.utils import timezone

    Rule.objects.filter(pk=made.pk).update(revoked_at=timezone.now())
    visibility.sync_due()
    assert searching.search(parse("航线")).total == 1
    assert not Hidden.objects.exists()


def test_an_embargo_ends_and_starts_by_itself(articles):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    until = rule(C, "block", exact=True, ends_at=now + timedelta(hours=1))
    later = rule(A, "exclude", exact=True, starts_at=now + timedelta(hours=1))
    assert public_urls() == {A, B}
    Rule.objects.filter(pk=until.pk).update(ends_at=now - timedelta(seconds=1))
    Rule.objects.filter(pk=later.pk).update(starts_at=now - timedelta(seconds=1))
    assert public_urls() == {B, C}  # no command needed: the next list applies both
    assert searching.search(parse("航线")).total == 1
    with pytest.raises(Http404):
        visibility.guard(A)


def test_an_article_ingested_under_a_rule_is_hidden_at_once(home: Path, outlet: Outlet):
    Rule.objects.create(surt=surt(f"{BASE}/gj/"), verb="exclude", reason="other", created_by="test")
    visibility.sync_due()
    write_warc(home / "warc", [Page(A), Page(C, title="国际航线恢复运营")])
    ingest(home / "warc", [outlet])
    assert public_urls() == {A}
    assert Hidden.objects.get().article.url == C
    assert searching.search(parse("航线")).total == 0
    from kuaizhao.archive.ingest import reset

    reset()  # what reindex does: forget the catalogue, read the WARC files again
    ingest(home / "warc", [outlet])
    assert public_urls() == {A}
    assert searching.search(parse("航线")).total == 0


def test_lists_cost_one_query_whatever_the_rules(articles, django_assert_max_num_queries):
    for n in range(50):
        Rule.objects.create(
            surt=surt(f"{BASE}/x{n}/"), verb="block", reason="other", created_by="t"
        )
    rule(f"{BASE}/gn/", "block")
    with django_assert_max_num_queries(2):  # the due-rule check and the list itself
        assert set(visibility.public(Article.objects.all()).values_list("url", flat=True)) == {C}
