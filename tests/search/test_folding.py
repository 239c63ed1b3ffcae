"""Ranking: one entry per story (the story's first-ranked candidate's place, shown by its
original), and pages ranked from lower bounds, refining only the candidates that can reach
the page."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kuaizhao.search.engine import SECONDS_PER_YEAR, Candidate, folded, page_of
from kuaizhao.search.query import parse

STORIES = st.lists(st.tuples(st.integers(1, 30), st.one_of(st.none(), st.integers(1, 30))))


def reference(candidates: list[Candidate]) -> list[tuple[Candidate, int]]:
    """The rule, written plainly: stories in order of their first member; the original
    if it is among the members, else that first member; the others counted."""
    order: list[int] = []
    groups: dict[int, list[Candidate]] = {}
    for c in candidates:
        key = c.id if c.story is None else c.story
        if key not in groups:
            order.append(key)
        groups.setdefault(key, []).append(c)
    return [
        (next((c for c in groups[k] if c.id == k), groups[k][0]), len(groups[k]) - 1) for k in order
    ]


@given(STORIES)
def test_folding_follows_the_rule(pairs: list[tuple[int, int | None]]) -> None:
    unique = {i: story for i, story in pairs}  # one candidate per article id
    candidates = [Candidate(i, 0.0, None, story) for i, story in unique.items()]
    assert folded(candidates) == reference(candidates)


def test_a_copy_ranked_first_is_shown_by_its_original() -> None:
    candidates = [
        Candidate(9, 5.0, None, 3),
        Candidate(4, 4.0, None, None),
        Candidate(3, 1.0, None, 3),
    ]
    assert folded(candidates) == [(candidates[2], 1), (candidates[1], 0)]


SLACK = 6.0  # two terms scored from the text, 3 points each
RANKED = st.lists(
    st.tuples(
        st.sampled_from([1.0, 4.0, 7.0, 11.0, 14.0, 17.0]),  # the exact text score
        st.sampled_from([0.0, 3.0, 6.0]),  # how far below it the bound starts
        st.integers(0, 4 * int(SECONDS_PER_YEAR)),  # published: a few points of recency
        st.one_of(st.none(), st.integers(1, 60)),  # the story
    ),
    max_size=60,
)


def pages(
    rows: list[tuple[float, float, int, int | None]], page: int, per_page: int
) -> tuple[list[tuple[int, float, int]], list[tuple[int, float, int]], int]:
    exact = {i: score for i, (score, _, _, _) in enumerate(rows, 1)}
    asked: list[int] = []

    def refine(ids: list[int]) -> dict[int, float]:
        asked.extend(ids)
        return {i: exact[i] for i in ids}

    def texts(ids: list[int]) -> dict[int, tuple[str, str]]:
        return {}

    def page_from(candidates: list[Candidate], **lazy: object) -> list[tuple[int, float, int]]:
        result = page_of(
            parse("x"),
            candidates,
            complete=True,
            total=0,
            page=page,
            per_page=per_page,
            order="relevance",
            originals=texts,
            **lazy,  # type: ignore[arg-type]
        )
        return [(h.article_id, h.score, h.copies) for h in result.hits]

    stories = {
        i: story if story is None or story <= len(rows) else None
        for i, (_, _, _, story) in enumerate(rows, 1)
    }
    full = [Candidate(i, exact[i], rows[i - 1][2], stories[i]) for i in exact]
    bounds = [c._replace(text_score=max(1.0, c.text_score - rows[c.id - 1][1])) for c in full]
    return page_from(full), page_from(bounds, slack=SLACK, refine=refine), len(asked)


@given(RANKED, st.integers(1, 4), st.integers(1, 12))
def test_ranking_from_bounds_gives_the_exact_page(
    rows: list[tuple[float, float, int, int | None]], page: int, per_page: int
) -> None:
    expected, lazy, _ = pages(rows, page, per_page)
    assert lazy == expected


def test_candidates_that_cannot_reach_the_page_are_not_refined() -> None:
    # Ten title hits a year old, then a hundred body hits older still: a body hit could
    # earn 6 points at most, which never lifts it past a title hit.
    rows = [(11.0, 0.0, 9 * int(SECONDS_PER_YEAR), None)] * 10
    rows += [(1.0, 0.0, 8 * int(SECONDS_PER_YEAR), None)] * 100
    expected, lazy, asked = pages(rows, 1, 10)
    assert lazy == expected
    assert asked == 10
