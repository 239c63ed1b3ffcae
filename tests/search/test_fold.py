"""Folding: one normalisation for index and query, one character to one character."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kuaizhao.search.fold import fold, fold_chars
from kuaizhao.search.snippets import snippet
from kuaizhao.search.t2s import SIMPLIFIED, TRADITIONAL


def test_traditional_becomes_simplified():
    assert fold("國際航線恢復運營") == "国际航线恢复运营"
    assert fold("臺灣") == fold("台湾")
    assert fold("裡") == fold("裏") == "里"


def test_full_width_becomes_half_width_and_lower_case():
    assert fold("ＡＢＣ５Ｇ") == "abc5g"
    assert fold("１，０００") == "1,000"
    assert fold("（上）") == "(上)"
    assert fold("。、") == "。、"  # no ASCII twin


def test_whitespace_collapses():
    assert fold(" 山西\u3000\n 太原 ") == "山西 太原"


def test_the_table_is_one_to_one_and_settled():
    assert len(TRADITIONAL) == len(SIMPLIFIED) == len(set(TRADITIONAL))
    assert fold(SIMPLIFIED) == fold(fold(SIMPLIFIED))
    assert not set(TRADITIONAL) & set(SIMPLIFIED)


@given(st.text(max_size=50))
def test_fold_chars_keeps_every_offset(text):
    folded = fold_chars(text)
    assert len(folded) == len(text)
    assert fold_chars(folded) == folded


def test_snippets_find_folded_terms_and_show_the_original():
    text = "第一句。多條國際航線本週恢復運營，旅客出行更加便利。"
    assert "國際航線" in snippet(text, ["国际航线"], width=12)
    assert snippet(text, ["ＡＢＣ"]) == text  # not found: the start, uncut


def test_preimages_name_every_character_that_folds_to_another() -> None:
    from kuaizhao.search.fold import preimages

    table = preimages()
    for code in range(0x10000):
        if 0xD800 <= code < 0xE000:
            continue
        char = chr(code)
        into = fold_chars(char)
        assert into == char or char in table[into], hex(code)
    assert set(table["国"]) >= {"國"} and set(table[","]) == {"，"}
    assert all(fold_chars(char) == into for into, chars in table.items() for char in chars)
