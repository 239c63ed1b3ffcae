"""Percolation: which follows does an article match, without trying every follow.

A search runs one query over many articles; here one article runs against many stored
queries. Category, outlet and story follows are dictionary lookups. Keyword follows use the
search query language (``kuaizhao.search.query``) with the search's semantics: every term is
folded as the index folds text, and a term matches when it occurs as a substring of the
folded title or of the folded body (never across the two).

Keyword follows are indexed by *key terms*. Every group of a query (terms joined by OR) must
match, so a query can only match an article that contains a term of each of its groups:
the query is filed under the terms of its most selective group (an estimate: terms seen in
few articles so far, and long terms, are rare), paired with those of its second most
selective group when it has one, so that it is a candidate only where both occur. One
Aho–Corasick automaton over every term of every indexed query finds, in one pass over the
article, which terms it contains; the queries filed under those terms are the candidates,
and each is then decided exactly from the same set of found terms (plus its filters); a
query of at most two groups without exclusions or filters needs no decision at all, and one
with a category filter is only a candidate for articles of that category. A query with
filters but no terms is filed under its category filter, or checked for every article
when it has none. Follows with the same query share one entry.

The automaton is rebuilt when many queries have been added since it was built; until then
the newest queries are checked one by one, so adding a follow never waits for a rebuild.
Removing a follow only drops it from the maps (its terms may stay in the automaton, where
they cost nothing but a lookup).

Nothing here touches Django or the database, so the catalogue's side (``matching``) and the
benchmark share it, and ``naive`` is the reference it must agree with.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import ahocorasick

from kuaizhao.search.document import clean, day_end, day_start, epoch
from kuaizhao.search.engine import plan
from kuaizhao.search.query import QueryError, parse

Kind = Literal["category", "outlet", "query", "story"]
KINDS: tuple[Kind, ...] = ("category", "outlet", "query", "story")
SEAM = "\ue002"
"""Joins folded title and body: folding never leaves it in text, so no term spans both."""
REBUILD_AFTER = 256
"""Queries added since the last build that are checked one by one before a rebuild."""


@dataclass(frozen=True)
class Doc:
    """An article as matching sees it: folded text and the fields filters look at."""

    text: str
    category: str = ""
    outlet: str = ""
    source: str = ""
    published: int | None = None
    stories: frozenset[int] = frozenset()
    """Ids of the articles of its story (itself, its copies, the original)."""

    @classmethod
    def of(
        cls,
        title: str,
        body: str,
        *,
        category: str = "",
        outlet: str = "",
        source: str = "",
        published_at: datetime | None = None,
        stories: Iterable[int] = (),
    ) -> Doc:
        return cls(
            clean(title) + SEAM + clean(body),
            category,
            outlet,
            clean(source),
            epoch(published_at),
            frozenset(stories),
        )


@dataclass(frozen=True)
class Rule:
    """A keyword query, folded and ready to be decided against a ``Doc``."""

    groups: tuple[tuple[str, ...], ...]
    excludes: tuple[str, ...]
    category: str | None = None
    source: str | None = None
    after: int | None = None
    before: int | None = None
    filtered: bool = field(default=False, init=False, compare=False)

    def __post_init__(self) -> None:
        filters = (self.category, self.source, self.after, self.before)
        object.__setattr__(self, "filtered", any(v is not None for v in filters))

    @property
    def terms(self) -> tuple[str, ...]:
        return tuple(t for g in self.groups for t in g) + self.excludes

    def passes_filters(self, doc: Doc) -> bool:
        if self.category is not None and doc.category != self.category:
            return False
        if self.source is not None and self.source not in doc.source:
            return False
        if self.after is not None and (doc.published is None or doc.published < self.after):
            return False
        return not (
            self.before is not None and (doc.published is None or doc.published >= self.before)
        )

    def matches(self, doc: Doc) -> bool:
        """Decided by substring search in the article (the reference, and for new rules)."""
        return (
            self.passes_filters(doc)
            and all(any(t in doc.text for t in g) for g in self.groups)
            and not any(t in doc.text for t in self.excludes)
        )

    def matches_found(self, doc: Doc, found: set[str] | frozenset[str]) -> bool:
        """Decided from ``found``, the terms the automaton saw (a superset of ours)."""
        for group in self.groups:
            if found.isdisjoint(group):
                return False
        if self.excludes and not found.isdisjoint(self.excludes):
            return False
        return not self.filtered or self.passes_filters(doc)


def compile_query(text: str) -> Rule:
    """The rule a keyword follow stands for; QueryError when it could never match anything."""
    query = parse(text)
    folded = plan(query)
    source = clean(query.source) if query.source else ""
    rule = Rule(
        folded.groups,
        folded.excludes,
        category=query.category,
        source=source or None,
        after=day_start(query.after) if query.after else None,
        before=day_end(query.before) if query.before else None,
    )
    if not rule.groups and not query.has_filters:
        raise QueryError("请输入要关注的关键词")
    return rule


@dataclass(frozen=True)
class Spec:
    """What one follow wants: ``value`` is a category name, an outlet slug or a story id."""

    kind: Kind
    value: str = ""
    rule: Rule | None = None

    def matches(self, doc: Doc) -> bool:
        if self.kind == "category":
            return doc.category == self.value
        if self.kind == "outlet":
            return doc.outlet == self.value
        if self.kind == "story":
            return self.value.isdigit() and int(self.value) in doc.stories
        return self.rule is not None and self.rule.matches(doc)


def spec(kind: str, value: str) -> Spec:
    """The spec of a follow as stored; QueryError for a keyword query that cannot match."""
    if kind == "query":
        return Spec("query", value, compile_query(value))
    if kind not in KINDS:
        raise ValueError(f"unknown follow kind {kind!r}")
    return Spec(kind, value)


def naive(specs: dict[int, Spec], doc: Doc) -> set[int]:
    """Every follow ``doc`` matches, trying each one: the reference ``Percolator`` equals."""
    return {follow for follow, s in specs.items() if s.matches(doc)}


def _prior(term: str) -> float:
    """How often a term is expected in an article before any is seen: short ones often."""
    return 0.5 ** (3 * len(term))


Key = tuple[str, str]
"""A rule's key: a term of its rarest group and one of its second rarest ("" if none)."""


@dataclass
class Percolator:
    """The follows, indexed for matching one article at a time.

    Follows with the same query share one rule (readers often follow the same words). A rule
    of at most two groups without exclusions or filters is *direct*: finding its key decides
    it, so its followers are filed under the key itself and join the result in one set union.
    The other rules are *checked*: their keys make them candidates, decided one by one.
    """

    rebuild_after: int = REBUILD_AFTER
    by_category: dict[str, set[int]] = field(default_factory=dict)
    by_outlet: dict[str, set[int]] = field(default_factory=dict)
    by_story: dict[int, set[int]] = field(default_factory=dict)
    rules: dict[int, Rule] = field(default_factory=dict)
    """follow -> its rule"""
    rule_ids: dict[Rule, int] = field(default_factory=dict)
    rule_of: dict[int, Rule] = field(default_factory=dict)
    followers: dict[int, set[int]] = field(default_factory=dict)
    """rule id -> the follows that have it"""
    keys: dict[int, list[Key]] = field(default_factory=dict)
    direct: dict[str, dict[str, set[int]]] = field(default_factory=dict)
    """first key term -> second key term -> the follows of the direct rules filed there"""
    checked: dict[str | None, dict[str, dict[str, set[int]]]] = field(default_factory=dict)
    """category filter (None: none) -> first key term -> second key term -> ids of the
    checked rules filed there (an article only meets the rules of its own category)"""
    unkeyed: dict[str | None, set[int]] = field(default_factory=dict)
    simple: set[int] = field(default_factory=set)
    pending: set[int] = field(default_factory=set)
    seen: Counter[str] = field(default_factory=Counter)
    articles: int = 0
    _next_rule: int = 0
    _automaton: Any = None

    def __len__(self) -> int:
        return (
            len(self.rules)
            + sum(map(len, self.by_category.values()))
            + sum(map(len, self.by_outlet.values()))
            + sum(map(len, self.by_story.values()))
        )

    @property
    def has_stories(self) -> bool:
        return any(self.by_story.values())

    @property
    def key_terms(self) -> int:
        return len(set(self.direct).union(*self.checked.values()))

    # -- changing ------------------------------------------------------------------------------
    def add(self, follow: int, s: Spec, *, rebuild: bool = True) -> None:
        """Index a follow; ``rebuild=False`` when adding many (call ``rebuild`` after)."""
        self.remove(follow)
        if s.kind == "category":
            self.by_category.setdefault(s.value, set()).add(follow)
        elif s.kind == "outlet":
            self.by_outlet.setdefault(s.value, set()).add(follow)
        elif s.kind == "story":
            if s.value.isdigit():
                self.by_story.setdefault(int(s.value), set()).add(follow)
        elif s.rule is not None:
            self.rules[follow] = s.rule
            rid = self.rule_ids.get(s.rule)
            if rid is None:
                rid = self._next_rule = self._next_rule + 1
                self.rule_ids[s.rule] = rid
                self.rule_of[rid] = s.rule
                self.followers[rid] = set()
                self.pending.add(rid)
            self.followers[rid].add(follow)
            if rid in self.simple:
                for a, b in self.keys[rid]:
                    self.direct[a][b].add(follow)
            if rebuild and len(self.pending) > self.rebuild_after:
                self.rebuild()

    def remove(self, follow: int) -> None:
        for index in (self.by_category, self.by_outlet, self.by_story):
            for followers in index.values():
                followers.discard(follow)
        rule = self.rules.pop(follow, None)
        if rule is None:
            return
        rid = self.rule_ids[rule]
        self.followers[rid].discard(follow)
        simple = rid in self.simple
        if simple:
            for a, b in self.keys[rid]:
                self.direct[a][b].discard(follow)
        if self.followers[rid]:
            return
        del self.followers[rid], self.rule_ids[rule], self.rule_of[rid]
        self.pending.discard(rid)
        self.simple.discard(rid)
        for a, b in self.keys.pop(rid, ()):
            if not simple:
                self.checked[rule.category][a][b].discard(rid)
        self.unkeyed.get(rule.category, set()).discard(rid)

    def _rarity(self, term: str) -> float:
        return (self.seen[term] + 1) / (self.articles + 2) + _prior(term)

    def rebuild(self) -> None:
        """File every rule under its keys and build the automaton over all terms."""
        automaton = ahocorasick.Automaton()
        self.keys, self.direct, self.checked, self.unkeyed = {}, {}, {}, {}
        self.simple = set()
        for rid, rule in self.rule_of.items():
            for term in rule.terms:
                if term not in automaton:
                    automaton.add_word(term, term)
            if not rule.groups:
                self.unkeyed.setdefault(rule.category, set()).add(rid)
                continue
            first, *rest = sorted(rule.groups, key=lambda g: sum(map(self._rarity, g)))
            keys = [(a, b) for a in first for b in (rest[0] if rest else ("",))]
            self.keys[rid] = keys
            if len(rule.groups) <= 2 and not rule.excludes and not rule.filtered:
                self.simple.add(rid)
                for a, b in keys:
                    self.direct.setdefault(a, {}).setdefault(b, set()).update(self.followers[rid])
            else:
                filed = self.checked.setdefault(rule.category, {})
                for a, b in keys:
                    filed.setdefault(a, {}).setdefault(b, set()).add(rid)
        if len(automaton):
            automaton.make_automaton()
            self._automaton = automaton
        else:
            self._automaton = None
        self.pending = set()

    # -- matching ------------------------------------------------------------------------------
    def learn(self, docs: Iterable[Doc]) -> None:
        """Count which terms typical articles contain, then file every rule again under its
        rarest groups: the keys then fit the articles' words, not only term lengths."""
        if self.pending:
            self.rebuild()
        for doc in docs:
            self.found(doc)
        self.rebuild()

    def found(self, doc: Doc) -> set[str]:
        """The indexed terms ``doc`` contains (learning how common each one is)."""
        if self._automaton is None:
            return set()
        terms = {term for _, term in self._automaton.iter(doc.text)}
        self.seen.update(terms)
        self.articles += 1
        return terms

    def match(self, doc: Doc) -> set[int]:
        """Every follow ``doc`` matches; equal to ``naive`` over the same follows."""
        hits: set[int] = set()
        if followers := self.by_category.get(doc.category):
            hits |= followers
        if followers := self.by_outlet.get(doc.outlet):
            hits |= followers
        for story in doc.stories:
            if followers := self.by_story.get(story):
                hits |= followers
        if not self.rules:
            return hits
        found = self.found(doc)
        candidates: set[int] = set()
        direct = self.direct
        checked = [c for c in (self.checked.get(None), self.checked.get(doc.category)) if c]
        for term in found:
            if second := direct.get(term):
                if follows := second.get(""):
                    hits |= follows
                for other in second.keys() & found:
                    hits |= second[other]
            for filed in checked:
                if second := filed.get(term):
                    if rids := second.get(""):
                        candidates |= rids
                    for other in second.keys() & found:
                        candidates |= second[other]
        rule_of, followers_of = self.rule_of, self.followers
        for rid in candidates:
            if rule_of[rid].matches_found(doc, found):
                hits |= followers_of[rid]
        for category in (None, doc.category):
            for rid in self.unkeyed.get(category, ()):
                if rule_of[rid].matches_found(doc, found):
                    hits |= followers_of[rid]
        for rid in self.pending:
            if rule_of[rid].matches(doc):
                hits |= followers_of[rid]
        return hits
