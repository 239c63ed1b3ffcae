from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kuaizhao.search.query import MAX_QUERY_CHARS, QueryError, parse


@pytest.mark.parametrize(
    ("text", "groups", "excludes"),
    [
        ("山西 城市群", (("山西",), ("城市群",)), ()),
        ('"山西 中部 城市群"', (("山西 中部 城市群", "山西中部城市群"),), ()),
        ('"new york" times', (("new york",), ("times",)), ()),
        ("高铁 OR 动车", (("高铁", "动车"),), ()),
        ("高铁 OR 动车 OR 城际 开通", (("高铁", "动车", "城际"), ("开通",)), ()),
        ('城市群 -太原 -"晋中 市"', (("城市群",),), ("太原", "晋中 市", "晋中市")),
        ("OR 高铁", (("OR",), ("高铁",)), ()),
        ("高铁 OR", (("高铁",), ("OR",)), ()),
        ("- 高铁", (("-",), ("高铁",)), ()),
        ('"未闭合的引号', (("未闭合的引号",),), ()),
        ("太原，晋中　全角", (("太原，晋中",), ("全角",)), ()),
        ("foo:bar", (("foo:bar",),), ()),
        ("category:不存在", (("category:不存在",),), ()),
        ("after:明天", (("after:明天",),), ()),
        ("高铁 高铁", (("高铁",),), ()),
    ],
)
def test_it_parses_the_query_language(text, groups, excludes):
    query = parse(text)
    assert query.groups == groups
    assert query.excludes == excludes


def test_filters_are_taken_out_of_the_terms():
    query = parse("高铁 category:caijing source:华夏日报网 after:2024-01-01 before:2024/06/30")
    assert query.groups == (("高铁",),)
    assert query.category == "财经"
    assert query.source == "华夏日报网"
    assert (query.after, query.before) == (date(2024, 1, 1), date(2024, 6, 30))


def test_a_filter_alone_is_a_query():
    assert not parse("category:国内").empty
    assert parse("").empty


def test_too_long_a_query_is_refused_in_words_a_reader_understands():
    with pytest.raises(QueryError, match="查询过长"):
        parse("字" * (MAX_QUERY_CHARS + 1))


def test_too_many_terms_are_refused():
    with pytest.raises(QueryError, match="关键词过多"):
        parse(" ".join(f"词{i}" for i in range(20)))


@given(st.text(max_size=MAX_QUERY_CHARS))
def test_any_text_parses_or_gets_a_clear_error(text):
    try:
        query = parse(text)
    except QueryError:
        return
    for term in query.terms + query.excludes:
        assert term and "\x00" not in term
