"""One entry per story: the story's first-ranked candidate's place, shown by its original."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kuaizhao.search.engine import Candidate, folded

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
