from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kuaizhao.lib.dates import SHANGHAI, date_from_url, parse_datetime

NOW = datetime(2023, 5, 10, 12, 0, tzinfo=SHANGHAI)


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-05-09 20:36", sh(2023, 5, 9, 20, 36)),
        ("2023-05-09 20:36:00", sh(2023, 5, 9, 20, 36)),
        ("2023/5/9 20:36", sh(2023, 5, 9, 20, 36)),
        ("2023年05月09日 20:36", sh(2023, 5, 9, 20, 36)),
        ("2023年5月9日20:36", sh(2023, 5, 9, 20, 36)),
        ("2019年09月07日 09:25:09", sh(2019, 9, 7, 9, 25, 9)),
        ("2023.05.09", sh(2023, 5, 9)),
        ("2022.01.20 16:31", sh(2022, 1, 20, 16, 31)),
        ("05-09 20:36", sh(2023, 5, 9, 20, 36)),
        ("5月9日 下午3:20", sh(2023, 5, 9, 15, 20)),
        ("昨天 10:20", sh(2023, 5, 9, 10, 20)),
        ("前天 08:00", sh(2023, 5, 8, 8, 0)),
        ("3小时前", sh(2023, 5, 10, 9, 0)),
        ("5分钟前", sh(2023, 5, 10, 11, 55)),
        ("刚刚", NOW),
        ("发布时间：2023-05-09 20:36 来源：人民网", sh(2023, 5, 9, 20, 36)),
        ("2023年05月09日20时36分", sh(2023, 5, 9, 20, 36)),
    ],
)
def test_shapes(text: str, expected: datetime) -> None:
    assert parse_datetime(text, now=NOW) == expected


def test_iso_with_offset() -> None:
    value = parse_datetime("2023-05-09T12:36:00+00:00", now=NOW)
    assert value == datetime(2023, 5, 9, 12, 36, tzinfo=UTC)
    assert value is not None and value.utcoffset() == timedelta(0)
    value = parse_datetime("2023-05-09T20:36:00Z", now=NOW)
    assert value is not None and value.tzinfo is not None


def test_results_are_aware() -> None:
    value = parse_datetime("2023-05-09 20:36", now=NOW)
    assert value is not None and value.utcoffset() == timedelta(hours=8)


def test_year_from_url() -> None:
    value = parse_datetime("12-31 08:00", now=NOW, url="http://x.cn/2021/1231/c1-1.html")
    assert value == sh(2021, 12, 31, 8, 0)


def test_month_day_without_year_never_in_future() -> None:
    value = parse_datetime("12-31 08:00", now=NOW)
    assert value == sh(2022, 12, 31, 8, 0)


@pytest.mark.parametrize(
    "text", ["2030-01-01 10:00", "2023-05-11 10:00", "", "没有日期", "2023-13-45"]
)
def test_rejected(text: str) -> None:
    assert parse_datetime(text, now=NOW) is None


def test_relative_only_in_short_text() -> None:
    long = (
        "刚刚，在大会上，负责人介绍了今年的工作安排和下一步的计划，"
        "并回答了记者提出的一系列相关问题。"
    )
    assert parse_datetime(long, now=NOW) is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://a.cn/2023-05/09/content_1.htm", date(2023, 5, 9)),
        ("http://a.cn/n1/2023/0509/c1-2.html", date(2023, 5, 9)),
        ("http://a.cn/gn/202305/t20230509_123.html", date(2023, 5, 9)),
        ("http://a.cn/20230509/abc.html", date(2023, 5, 9)),
        ("http://a.cn/system/2023/05/09/030012347.shtml", date(2023, 5, 9)),
        ("http://a.cn/about.html", None),
        (None, None),
    ],
)
def test_date_from_url(url: str | None, expected: date | None) -> None:
    assert date_from_url(url) == expected


@given(
    st.text(max_size=200), st.datetimes(max_value=datetime(2100, 1, 1), timezones=st.just(SHANGHAI))
)
@settings(max_examples=300, deadline=None)
def test_parse_datetime_never_raises(text: str, now: datetime) -> None:
    value = parse_datetime(text, now=now)
    assert value is None or (value.tzinfo is not None and value <= now + timedelta(hours=1))
