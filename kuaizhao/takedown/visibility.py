"""The one place that decides what the public may see.

Every public surface goes through here: lists through ``public`` (a join against the
materialised ``Hidden`` table, so no rule is matched per row), single items through
``guard``/``guard_article`` (an ``exclude`` rule is a 404, a ``block`` rule a 451), and many
single URLs through ``visible_url``. Rules are keyed by SURT; the longest key that matches a
URL wins, an ``exact`` key beating a prefix of the same length.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kuaizhao.lib.surt import BadUrl, surt
from kuaizhao.takedown.matching import Decision, RuleRow, RuleSet, reference

if TYPE_CHECKING:
    from kuaizhao.archive.models import Article
    from kuaizhao.takedown.models import Hidden, Rule

NOT_ARCHIVED = "此网页未被存档"


class Blocked(Exception):
    """A ``block`` rule covers the item: the answer is a 451 naming ``request_number``."""

    def __init__(self, request_number: str, url: str = "") -> None:
        super().__init__(f"{url} is blocked by takedown request {request_number}")
        self.request_number = request_number
        self.url = url


def in_force(now: datetime | None = None) -> Q:
    """The rules that apply at ``now``: not revoked, and inside their embargo dates."""
    now = now or timezone.now()
    return (
        Q(revoked_at__isnull=True)
        & (Q(starts_at__isnull=True) | Q(starts_at__lte=now))
        & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))
    )


_FINGERPRINT = (
    "SELECT COUNT(*), MAX(id), MAX(created_at), COUNT(revoked_at), MAX(revoked_at), "
    "SUM(CASE WHEN applied THEN 1 ELSE 0 END), MAX(starts_at), MAX(ends_at) FROM takedown_rule"
)


@dataclass(frozen=True)
class _Built:
    fingerprint: tuple[object, ...]
    since: datetime
    until: datetime | None
    rules: RuleSet


_built: _Built | None = None


def load(now: datetime | None = None) -> RuleSet:
    """The rules in force at ``now``. Kept in memory between calls while the rule table is
    unchanged (one aggregate query tells) and no embargo date is passed, so a page with
    thousands of rules in force does not read them all."""
    global _built
    from kuaizhao.takedown.models import Rule

    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_FINGERPRINT)
        fingerprint = tuple(cursor.fetchone() or ())
    built = _built
    if (
        built is not None
        and built.fingerprint == fingerprint
        and built.since <= now
        and (built.until is None or now < built.until)
    ):
        return built.rules
    rows = Rule.objects.filter(in_force(now)).values_list(
        "id", "surt", "exact", "verb", "request__number"
    )
    ruleset = RuleSet(
        RuleRow(i, key, exact, verb, reference(i, n)) for i, key, exact, verb, n in rows
    )
    dates = Rule.objects.filter(revoked_at__isnull=True)
    upcoming = [
        moment
        for field in ("starts_at", "ends_at")
        for moment in dates.filter(**{f"{field}__gt": now})
        .order_by(field)
        .values_list(field, flat=True)[:1]
    ]
    _built = _Built(fingerprint, now, min(upcoming, default=None), ruleset)
    return ruleset


@dataclass
class _Scope:
    rules: RuleSet | None = None
    synced: bool = False


_scope: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar(
    "takedown_scope", default=None
)


@contextmanager
def request_scope() -> Iterator[None]:
    """Inside the block (one web request, one export run) read the rules at most once and
    look for due rules at most once, however many lists and items a page shows."""
    token = _scope.set(_Scope())
    try:
        yield
    finally:
        _scope.reset(token)


def forget() -> None:
    """Drop what the current scope remembers (after a rule changed inside it)."""
    scope = _scope.get()
    if scope is not None:
        scope.rules, scope.synced = None, False


def rules() -> RuleSet:
    """The rules in force: read once per ``request_scope``, or afresh outside one."""
    scope = _scope.get()
    if scope is None:
        return load()
    if scope.rules is None:
        scope.rules = load()
    return scope.rules


def _key(url: str) -> str | None:
    try:
        return surt(url)
    except BadUrl:
        return None


def _raise_for(decision: Decision | None, url: str) -> None:
    if decision is None:
        return
    if decision.verb == "exclude":
        raise Http404(NOT_ARCHIVED)
    raise Blocked(decision.reference, url)


def guard(url: str) -> None:
    """Raise ``Http404`` if an ``exclude`` rule covers ``url``, ``Blocked`` for a ``block``."""
    key = _key(url)
    if key is not None:
        _raise_for(rules().hides(key), url)


def guard_surt(key: str, url: str = "") -> None:
    """``guard`` for a catalogue row that already carries its SURT."""
    _raise_for(rules().hides(key), url)


def guard_article(article: Article) -> None:
    guard_surt(article.surt, article.url)


def visible_url(url: str) -> bool:
    key = _key(url)
    return key is None or rules().hides(key) is None


def visible_surt(key: str) -> bool:
    return rules().hides(key) is None


def hidden_ids() -> QuerySet[Hidden, int]:
    """The ids of every article some rule hides now (a subquery, not a list)."""
    from kuaizhao.takedown.models import Hidden

    _sync_once()
    return Hidden.objects.values_list("article_id", flat=True)


def public(qs: QuerySet[Article]) -> QuerySet[Article]:
    """The articles of ``qs`` any public list may show."""
    return qs.exclude(pk__in=hidden_ids())


def is_public(article_id: int) -> bool:
    from kuaizhao.takedown.models import Hidden

    _sync_once()
    return not Hidden.objects.filter(article_id=article_id).exists()


# --- keeping Hidden (and the search index) in step with the rules ---------------------------


def _due(now: datetime) -> QuerySet[Rule]:
    from kuaizhao.takedown.models import Rule

    live = in_force(now)
    return Rule.objects.filter((Q(applied=False) & live) | (Q(applied=True) & ~live))


def _sync_once() -> None:
    scope = _scope.get()
    if scope is None:
        sync_due()
    elif not scope.synced:
        sync_due()
        scope.synced = True


_ANY_DUE = (
    "SELECT 1 FROM takedown_rule WHERE "
    "(NOT applied AND revoked_at IS NULL AND (starts_at IS NULL OR starts_at <= %s) "
    "AND (ends_at IS NULL OR ends_at > %s)) "
    "OR (applied AND (revoked_at IS NOT NULL OR starts_at > %s OR ends_at <= %s)) LIMIT 1"
)


def _any_due(now: datetime) -> bool:
    """``_due(now).exists()`` without building an ORM query: lists ask it on every page."""
    moment = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(_ANY_DUE, [moment] * 4)
        return cursor.fetchone() is not None


def sync_due(now: datetime | None = None) -> int:
    """Bring ``Hidden`` up to date with rules applied, revoked or reaching an embargo date
    since the last call; returns how many articles changed visibility. Cheap when nothing
    is due (one indexed query), so lists call it every time."""
    now = now or timezone.now()
    if not _any_due(now):
        return 0
    with transaction.atomic():
        due = list(_due(now).select_for_update())
        if not due:
            return 0
        changed = refresh([(rule.surt, rule.exact) for rule in due], now)
        live = in_force(now)
        from kuaizhao.takedown.models import Rule

        Rule.objects.filter(pk__in=[r.pk for r in due]).filter(live).update(applied=True)
        Rule.objects.filter(pk__in=[r.pk for r in due]).exclude(live).update(applied=False)
    return changed


def refresh(keys: Iterable[tuple[str, bool]], now: datetime | None = None) -> int:
    """Re-decide every article under the given SURT keys; hide or show it, in ``Hidden`` and
    in the search index. Returns how many articles changed."""
    from kuaizhao.archive.models import Article

    ruleset = load(now)
    where = Q()
    for key, exact in keys:
        where |= Q(surt=key) if exact else Q(surt__startswith=key)
    if not where:
        return 0
    articles = Article.objects.filter(where).values_list("id", "surt")
    return _update(((pk, ruleset.hides(key)) for pk, key in articles.iterator()))


def _update(decisions: Iterable[tuple[int, Decision | None]]) -> int:
    from kuaizhao.archive import searching
    from kuaizhao.archive.models import Article
    from kuaizhao.takedown.models import Hidden

    wanted = dict(decisions)
    if not wanted:
        return 0
    current = {
        row.article_id: row
        for row in Hidden.objects.filter(article_id__in=list(wanted)).only("rule_id", "verb")
    }
    hide: list[Hidden] = []
    show: list[int] = []
    for pk, decision in wanted.items():
        row = current.get(pk)
        if decision is None:
            if row is not None:
                show.append(pk)
        elif row is None or row.rule_id != decision.rule_id or row.verb != decision.verb:
            hide.append(Hidden(article_id=pk, rule_id=decision.rule_id, verb=decision.verb))
    newly_hidden = [h.article_id for h in hide if h.article_id not in current]
    if newly_hidden:
        searching.unindex(newly_hidden)
    if hide:
        Hidden.objects.filter(article_id__in=[h.article_id for h in hide]).delete()
        Hidden.objects.bulk_create(hide)
    if show:
        Hidden.objects.filter(article_id__in=show).delete()
        articles = Article.objects.filter(pk__in=show)
        searching.backend().index(searching.document(a) for a in articles)
    return len(newly_hidden) + len(show)


def ingested(article: Article, created: bool = False) -> None:
    """Ingest just saved (and indexed) ``article``: hide it at once if a rule says so, show
    it again if none does any more. ``created``: a new row, hidden by nothing yet."""
    from kuaizhao.archive import searching
    from kuaizhao.takedown.models import Hidden

    decision = rules().hides(article.surt)
    if decision is not None:
        searching.unindex([article.pk])
        Hidden.objects.update_or_create(
            article_id=article.pk, defaults={"rule_id": decision.rule_id, "verb": decision.verb}
        )
    elif not created and Hidden.objects.filter(article_id=article.pk).exists():
        Hidden.objects.filter(article_id=article.pk).delete()


def shown(url: str) -> bool:
    """For a page about one URL (a lookup): False when an ``exclude`` rule covers it (show it
    as never archived); ``Blocked`` for a ``block`` rule."""
    try:
        guard(url)
    except Http404:
        return False
    return True
