"""Parse the date and time shapes used on Chinese news pages.

All results are timezone-aware (Asia/Shanghai unless the text carries an offset) and never later
than ``now`` plus a small tolerance; ``now`` is the capture time of the page.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from itertools import islice
from zoneinfo import ZoneInfo

__all__ = ["SHANGHAI", "date_from_url", "find_datetimes", "parse_datetime"]

SHANGHAI: tzinfo = ZoneInfo("Asia/Shanghai")
TOLERANCE = timedelta(minutes=30)
MIN_YEAR = 1990

_SEP = r"\s*(?:[-/.]|年)\s*"
_SEP2 = r"\s*(?:[-/.]|月)\s*"
_TIME = (
    r"(?:\s*(?:[T\s]|日|号|,|，)?\s*(?:(?P<ap>上午|下午|晚上|早上|中午|凌晨)\s*)?"
    r"(?P<H>\d{1,2})\s*(?:[:：]|时|點|点)\s*(?P<M>\d{1,2})"
    r"(?:\s*(?:[:：]\s*(?P<S>\d{1,2})(?P<frac>\.\d+)?|分(?:\s*(?P<S2>\d{1,2})秒)?))?)?"
)
_TZ = r"(?P<tz>Z|[+-]\d{2}:?\d{2}|\s?(?:GMT|UTC)[+-]?\d{0,2}:?\d{0,2})?"
_FULL = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})" + _SEP + r"(?P<mo>\d{1,2})" + _SEP2 + r"(?P<d>\d{1,2})"
    r"(?!\d)\s*(?:日|号)?" + _TIME + _TZ
)
_DMY = re.compile(
    r"(?<!\d)(?P<d>\d{1,2})/(?P<mo>\d{1,2})/(?P<y>(?:19|20)\d{2})(?!\d)\s*(?:-\s*)?" + _TIME + _TZ
)
_COMPACT = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})(?P<mo>[01]\d)(?P<d>[0-3]\d)"
    r"(?:\s*(?P<H>[0-2]\d)[:：]?(?P<M>[0-5]\d)(?:[:：]?(?P<S>[0-5]\d))?)?(?!\d)"
)
_MONTH_DAY = re.compile(
    r"(?<![\d.\-/])(?P<mo>\d{1,2})\s*(?:[-/]|月)\s*(?P<d>\d{1,2})(?!\d)\s*(?:日|号)?" + _TIME
)
_RELATIVE_DAY = re.compile(r"(今天|今日|昨天|昨日|前天)\s*" + _TIME)
_AGO = re.compile(r"(\d+|半|一|两|几)\s*(秒|分钟|分|小时|个小时|天|日|周|星期)\s*前")
_JUST_NOW = re.compile(r"刚刚|刚才")

_CN_NUM = {"半": 0.5, "一": 1, "两": 2, "几": 3}
_UNIT = {
    "秒": timedelta(seconds=1),
    "分钟": timedelta(minutes=1),
    "分": timedelta(minutes=1),
    "小时": timedelta(hours=1),
    "个小时": timedelta(hours=1),
    "天": timedelta(days=1),
    "日": timedelta(days=1),
    "周": timedelta(weeks=1),
    "星期": timedelta(weeks=1),
}

_URL_PATTERNS = [
    re.compile(r"/((?:19|20)\d{2})-([01]\d)/([0-3]\d)(?:/|\b)"),
    re.compile(r"/((?:19|20)\d{2})/([01]\d)([0-3]\d)/"),
    re.compile(r"/t((?:19|20)\d{2})([01]\d)([0-3]\d)_"),
    re.compile(r"/((?:19|20)\d{2})/([01]?\d)/([0-3]?\d)/"),
    re.compile(r"/((?:19|20)\d{2})-([01]\d)-([0-3]\d)/"),
    re.compile(r"/((?:19|20)\d{2})([01]\d)([0-3]\d)/"),
    re.compile(r"[/_\-a-z]((?:19|20)\d{2})([01]\d)([0-3]\d)(?:\d{0,6})[_\-./]"),
]


def _tz_from(text: str | None) -> tzinfo:
    if not text:
        return SHANGHAI
    text = text.strip().upper().replace("GMT", "").replace("UTC", "")
    if text in ("Z", ""):
        return UTC
    m = re.fullmatch(r"([+-])(\d{1,2}):?(\d{2})?", text)
    if not m:
        return SHANGHAI
    sign = -1 if m.group(1) == "-" else 1
    hours, minutes = int(m.group(2)), int(m.group(3) or 0)
    if hours > 14 or minutes > 59:
        return SHANGHAI
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _hour(match: re.Match[str]) -> int | None:
    h = match.group("H")
    if h is None:
        return 0
    hour = int(h)
    marker = match.group("ap") if "ap" in match.re.groupindex else None
    if marker in ("下午", "晚上") and hour < 12:
        hour += 12
    return hour if hour < 24 else None


def _build(
    y: int, mo: int, d: int, match: re.Match[str], tz: tzinfo | None = None
) -> datetime | None:
    hour = _hour(match)
    if hour is None:
        return None
    minute = int(match.group("M") or 0)
    groups = match.re.groupindex
    sec_text = match.group("S") if "S" in groups else None
    if sec_text is None and "S2" in groups:
        sec_text = match.group("S2")
    second = int(sec_text or 0)
    if tz is None:
        tz = _tz_from(match.group("tz")) if "tz" in groups else SHANGHAI
    try:
        return datetime(y, mo, d, hour, minute, second, tzinfo=tz)
    except ValueError:
        return None


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(SHANGHAI)
    if now.tzinfo is None:
        return now.replace(tzinfo=SHANGHAI)
    return now


def _valid(value: datetime | None, now: datetime) -> bool:
    return value is not None and value.year >= MIN_YEAR and value <= now + TOLERANCE


def _relative(text: str, now: datetime) -> datetime | None:
    local = now.astimezone(SHANGHAI)
    m = _RELATIVE_DAY.search(text)
    if m:
        back = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}[m.group(1)]
        day = local.date() - timedelta(days=back)
        return _build(day.year, day.month, day.day, m, SHANGHAI)
    m = _AGO.search(text)
    if m:
        raw = m.group(1)
        count = float(_CN_NUM[raw]) if raw in _CN_NUM else float(raw)
        return local - _UNIT[m.group(2)] * count
    if _JUST_NOW.search(text):
        return local
    return None


def _year_guess(url: str | None, now: datetime) -> list[int]:
    years: list[int] = []
    url_day = date_from_url(url) if url else None
    if url_day is not None:
        years.append(url_day.year)
    local = now.astimezone(SHANGHAI)
    years.extend([local.year, local.year - 1])
    return years


MAX_CANDIDATES = 64  # per shape: a text with more dates than this is a list, not a date line
MAX_TEXT = 20000


def _candidates(text: str, now: datetime, url: str | None) -> list[tuple[int, datetime]]:
    """All datetimes in ``text`` with their start offsets, in text order (unvalidated)."""
    found: list[tuple[int, datetime]] = []
    spans: list[tuple[int, int]] = []

    def add(m: re.Match[str], value: datetime | None) -> None:
        if len(spans) >= 4 * MAX_CANDIDATES or any(s <= m.start() < e for s, e in spans):
            return
        spans.append(m.span())
        if value is not None:
            found.append((m.start(), value))

    for pattern in (_FULL, _DMY, _COMPACT):
        for m in islice(pattern.finditer(text), MAX_CANDIDATES):
            add(m, _build(int(m.group("y")), int(m.group("mo")), int(m.group("d")), m))
    for m in islice(_MONTH_DAY.finditer(text), MAX_CANDIDATES):
        if m.group("H") is None and "月" not in m.group(0):
            continue  # a bare "05-09" is too ambiguous without a time
        value = None
        for year in _year_guess(url, now):
            value = _build(year, int(m.group("mo")), int(m.group("d")), m)
            if value is not None and value <= now + TOLERANCE:
                break
        add(m, value)
    found.sort(key=lambda item: item[0])
    return found


def find_datetimes(
    text: str, *, now: datetime | None = None, url: str | None = None
) -> list[tuple[int, datetime]]:
    """Every valid datetime in ``text`` with its offset, in text order."""
    current = _now(now)
    text = text[:MAX_TEXT]
    try:
        found = [(pos, v) for pos, v in _candidates(text, current, url) if _valid(v, current)]
        if not found and len(text) <= 40:
            rel = _relative(text, current)
            if rel is not None and _valid(rel, current):
                found.append((0, rel))
    except (ValueError, OverflowError):
        return []
    return found


def parse_datetime(
    text: str, *, now: datetime | None = None, url: str | None = None
) -> datetime | None:
    """The first datetime in ``text`` (absolute or relative to ``now``), or None."""
    if not text or len(text) > 10000:
        text = (text or "")[:10000]
    found = find_datetimes(text, now=now, url=url)
    return found[0][1] if found else None


def date_from_url(url: str | None) -> date | None:
    """The publication date encoded in an article URL, if any."""
    if not url:
        return None
    for pattern in _URL_PATTERNS:
        for m in pattern.finditer(url):
            try:
                day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                continue
            if day.year >= MIN_YEAR:
                return day
    return None
