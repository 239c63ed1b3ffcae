"""Whole words found from the blocks around a term agree with segmenting the whole text."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from kuaizhao.sampleweb.text import make_story
from kuaizhao.search.document import clean, unfolded_pattern, whole_words_in, words
from kuaizhao.search.fold import fold_chars

TEXTS = [
    "\n".join([s.title, *(b.text for b in s.blocks)])
    for s in (make_story(7, n, n % 5, 1 + n % 12, 1 + n % 28) for n in range(40))
]
UNFOLD = {"国": "國", "与": "與", "发": "發", ",": "，", "1": "１", "a": "Ａ", "经": "經"}


def whole_text(text: str, run: list[str]) -> bool:
    segments = words(clean(text))
    return any(segments[i : i + len(run)] == run for i in range(len(segments)))


def variant(text: str, rng: random.Random) -> str:
    """The same text as another outlet might type it: some characters traditional or
    full-width, some line breaks doubled."""
    out = []
    for char in text:
        if char in UNFOLD and rng.random() < 0.5:
            char = UNFOLD[char]
        elif char == "\n" and rng.random() < 0.5:
            char = " \n\u3000"
        out.append(char)
    return "".join(out)


@st.composite
def texts_and_terms(draw: st.DrawFn) -> tuple[str, str]:
    """A variant of a sample story and a folded term of 1-12 characters from it ("" when
    the slice folds to nothing)."""
    seed = draw(st.integers(0, 2**16))
    text = variant(TEXTS[draw(st.integers(0, len(TEXTS) - 1))], random.Random(seed))
    folded = clean(text)
    length = draw(st.integers(1, 12))
    start = int(draw(st.floats(0, 1, exclude_max=True)) * max(1, len(folded) - length))
    return text, clean(folded[start : start + length])


@settings(max_examples=400, deadline=None)
@given(texts_and_terms())
def test_a_substring_is_whole_words_exactly_when_the_whole_text_says_so(
    case: tuple[str, str],
) -> None:
    text, term = case
    if not term:
        return
    run = words(term)
    assert whole_words_in(text, run, unfolded_pattern(term)) == whole_text(text, run), term


def test_a_term_inside_a_longer_word_is_not_whole_words() -> None:
    term = "城市群"
    pattern = unfolded_pattern(term)
    assert whole_words_in("山西中部城市群建设提速。", words(term), pattern)
    assert not whole_words_in("山西中部城市群众代表发言。", words(term), pattern)


def test_unfolded_text_is_found_by_its_folded_term() -> None:
    term = clean("与。下一步,珠海")
    pattern = unfolded_pattern(term)
    assert whole_words_in("会议强调與。下一步，珠海将推进。", words(term), pattern)
    assert not whole_words_in("参与。下一步，珠海市将推进。", words(term), pattern)
    assert fold_chars("與") == "与"


def test_a_long_block_falls_back_to_the_whole_text() -> None:
    text = "山西" * 300 + "城市群" + "建设" * 300
    term = "城市群"
    assert whole_words_in(text, words(term), unfolded_pattern(term)) == whole_text(
        text, words(term)
    )


@settings(max_examples=400, deadline=None)
@given(texts_and_terms())
def test_the_unfolded_pattern_finds_every_term_the_folded_text_holds(
    case: tuple[str, str],
) -> None:
    text, term = case
    if term:
        assert unfolded_pattern(term).search(text), term
