"""What both backends share: folding the query, ranking candidates, paging, hits.

A backend finds *candidates*: the matching articles, newest first (by id, which grows with
capture time), at most ``limit`` of them, each with a text score from its own index. Ranking
happens here, the same way for both: text score plus a linear recency term, or publish time
for ``order="time"``. When more articles match than ``CANDIDATES`` (a common word), the newest
``CANDIDATES`` matches are ranked and the total is estimated from how densely they occur:
a reader of a news archive wants the best of the recent coverage, and the cost of a query
stays bounded however common its words are. Below that, ranking and totals are exact.

**One entry per story.** Copies of one story (``Doc.story``) are folded after ranking: the
story takes the place of its best-ranked match and is shown by its original when the original
matched (else by that best match); ``Hit.copies`` counts the other matches folded into it.
Totals count stories, so the number of pages agrees with the entries shown.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from kuaizhao.search.base import Hit, Order, Page
from kuaizhao.search.document import clean
from kuaizhao.search.query import Query
from kuaizhao.search.snippets import snippet

CANDIDATES = 1000
"""At most this many matches (the newest) are ranked; see the module docstring."""
RECENCY_PER_YEAR = 1.0
"""Score lost per year of age: a title hit (about 10) outweighs a decade, a body hit a year."""
SECONDS_PER_YEAR = 365.25 * 86400
MAX_PAGE = 1000
REFINE_BATCH = 128
"""At most this many candidates are refined together (one read of their text)."""

Refine = Callable[[list[int]], dict[int, float]]
"""Exact text scores for the candidates of these ids: see :func:`best_first`."""


class Candidate(NamedTuple):
    """A match as a backend found it (a tuple: a query builds up to a thousand of them)."""

    id: int
    text_score: float
    published: int | None
    story: int | None = None
    """The candidate's story (None: a story of its own)."""


@dataclass(frozen=True)
class Plan:
    """The query with every term folded as the index holds text; empty terms dropped."""

    groups: tuple[tuple[str, ...], ...]
    excludes: tuple[str, ...]

    @property
    def terms(self) -> tuple[str, ...]:
        return tuple(t for g in self.groups for t in g)


def plan(query: Query) -> Plan:
    groups = []
    for group in query.groups:
        folded = tuple(dict.fromkeys(t for t in map(clean, group) if t))
        if folded:
            groups.append(folded)
    excludes = tuple(dict.fromkeys(t for t in map(clean, query.excludes) if t))
    return Plan(tuple(groups), excludes)


def score(candidate: Candidate) -> float:
    return scored(candidate.text_score, candidate.published)


def scored(text_score: float, published: int | None) -> float:
    """Text score plus recency."""
    return text_score + RECENCY_PER_YEAR * ((published or 0) / SECONDS_PER_YEAR)


def ranked(candidates: Sequence[Candidate], order: Order) -> list[Candidate]:
    if order == "time":
        return sorted(candidates, key=lambda c: (c.published or 0, c.id), reverse=True)
    return sorted(candidates, key=lambda c: (score(c), c.id), reverse=True)


def best_first(
    candidates: Sequence[Candidate], wanted: int, slack: float, refine: Refine
) -> tuple[list[Candidate], set[int]]:
    """Rank candidates whose text scores are lower bounds, each at most ``slack`` below the
    exact one that ``refine`` gives, as far as the first ``wanted`` stories.

    Returns the candidates in ranked order up to the one that completes the ``wanted``-th
    story, the rest after them unranked, and the ids whose scores are exact. A candidate is
    placed only once no other can rank above it: its exact score is at least every other's
    upper bound. Candidates are refined in order of upper bound, so those that cannot reach
    the page are never refined (scoring is what costs when a query has many candidates).
    The first batch is as big as the page; each next one is twice as big (up to
    ``REFINE_BATCH``), so a query that must refine a thousand does so in a few reads.
    """

    def key(i: int, c: Candidate, bound: float) -> tuple[float, int, int]:
        return (-scored(c.text_score + bound, c.published), -c.id, i)

    current = list(candidates)
    exact: set[int] = set()
    heap = [key(i, c, slack) for i, c in enumerate(current)]
    heapq.heapify(heap)
    placed: list[Candidate] = []
    stories: set[int] = set()
    batch = max(1, wanted)
    while heap and len(stories) < wanted:
        top = heapq.heappop(heap)
        c = current[top[2]]
        if c.id in exact:
            placed.append(c)
            stories.add(c.id if c.story is None else c.story)
            continue
        popped = [top]
        while heap and len(popped) < min(batch, REFINE_BATCH):
            popped.append(heapq.heappop(heap))
        fresh = [i for _, _, i in popped if current[i].id not in exact]
        scores = refine([current[i].id for i in fresh])
        for i in fresh:
            current[i] = current[i]._replace(text_score=scores[current[i].id])
            exact.add(current[i].id)
        for _, _, i in popped:
            heapq.heappush(heap, key(i, current[i], 0.0))
        batch *= 2
    return placed + [current[i] for _, _, i in heap], exact


def folded(candidates: Sequence[Candidate]) -> list[tuple[Candidate, int]]:
    """One entry per story, in the order of each story's first candidate: the candidate shown
    (the original if it is among them, else that first one) and how many others it stands for.
    """
    keys = [c.id if c.story is None else c.story for c in candidates]
    sizes = Counter(keys)
    originals = {c.id: c for c, key in zip(candidates, keys, strict=True) if c.id == key}
    entries = []
    for c, key in zip(candidates, keys, strict=True):
        if sizes[key]:
            entries.append((originals.get(key, c), sizes[key] - 1))
            sizes[key] = 0
    return entries


def stories(candidates: Sequence[Candidate]) -> int:
    """How many stories ``candidates`` belong to (what totals count)."""
    return len({c.id if c.story is None else c.story for c in candidates})


def estimate(found: int, newest: int, oldest_found: int, first: int) -> int:
    """Matches in the whole id range [first, newest], from ``found`` in [oldest_found, newest]."""
    window = max(1, newest - oldest_found + 1)
    whole = max(window, newest - first + 1)
    return max(found, round(found * whole / window))


def to_datetime(published: int | None) -> datetime | None:
    return None if published is None else datetime.fromtimestamp(published, UTC)


def page_of(
    query: Query,
    candidates: list[Candidate],
    *,
    complete: bool,
    total: int,
    page: int,
    per_page: int,
    order: Order,
    originals: Callable[[list[int]], dict[int, tuple[str, str]]],
    slack: float = 0.0,
    refine: Refine | None = None,
) -> Page:
    """Rank ``candidates`` and build one page of hits with snippets of the original text.

    With ``refine``, the candidates' text scores are lower bounds (see :func:`best_first`):
    only those that can reach the page are refined, and every hit shown has its exact score.
    """
    exact: set[int] | None = None  # None: every score is exact
    if refine is None:
        placed = ranked(candidates, order)
    elif order == "time":
        placed, exact = ranked(candidates, order), set()
    else:
        placed, exact = best_first(candidates, page * per_page, slack, refine)
    chosen = folded(placed)[(page - 1) * per_page : page * per_page]
    missing = [] if exact is None else [c.id for c, _ in chosen if c.id not in exact]
    if refine is not None and missing:
        scores = refine(missing)
        chosen = [(c._replace(text_score=scores.get(c.id, c.text_score)), n) for c, n in chosen]
    texts = originals([c.id for c, _ in chosen])
    hits = []
    for c, copies in chosen:
        title, body = texts.get(c.id, ("", ""))
        hits.append(
            Hit(
                c.id,
                title,
                snippet(body, query.terms),
                to_datetime(c.published),
                score(c),
                copies,
            )
        )
    return Page(total, hits, page, per_page, query.terms, exact=complete)


def window(page: int, per_page: int) -> int:
    """How many candidates a page needs: at least CANDIDATES, more for deep pages."""
    return max(CANDIDATES, page * per_page)


def check_paging(page: int, per_page: int) -> tuple[int, int]:
    return min(max(1, page), MAX_PAGE), min(max(1, per_page), 100)
