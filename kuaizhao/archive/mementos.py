"""Time travel over the catalogue: captures of a URL, the one closest to a moment, and the
URLs and headers of Memento (RFC 7089) and Wayback-style addresses.

Every original URL ``U`` has a TimeGate at ``/web/U``, a TimeMap at ``/web/timemap/link/U``
and one memento per capture at ``/web/<14-digit UTC timestamp>/U``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import quote

from django.db.models import QuerySet

from kuaizhao.archive.models import Capture
from kuaizhao.lib.surt import BadUrl, surt
from kuaizhao.takedown import visibility

TIMESTAMP = re.compile(r"\d{4}(\d{2}){0,5}")
LINK_FORMAT = "application/link-format"


STEPS = {
    3: timedelta(days=1),
    4: timedelta(hours=1),
    5: timedelta(minutes=1),
    6: timedelta(seconds=1),
}


class BadTimestamp(ValueError):
    pass


def ts14(moment: datetime) -> str:
    """The 14-digit UTC timestamp of a moment, as archives write it."""
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def timestamp_range(text: str) -> tuple[datetime, datetime]:
    """The UTC period a 4- to 14-digit timestamp names: [start, end).

    >>> [moment.isoformat() for moment in timestamp_range("2024")]
    ['2024-01-01T00:00:00+00:00', '2025-01-01T00:00:00+00:00']
    >>> timestamp_range("20240229235959")[0].isoformat()
    '2024-02-29T23:59:59+00:00'
    """
    if not TIMESTAMP.fullmatch(text):
        raise BadTimestamp("时间戳应为 4 到 14 位数字（YYYY[MM[DD[hh[mm[ss]]]]]，UTC）")
    digits = [int(text[0:4])] + [int(text[i : i + 2]) for i in range(4, len(text), 2)]
    year, month, day, hour, minute, second = digits + [1, 1, 0, 0, 0][len(digits) - 1 :]
    try:
        start = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        raise BadTimestamp(f"不存在的时间：{text}") from None
    if len(digits) == 1:
        end = start.replace(year=start.year + 1)
    elif len(digits) == 2:
        end = (start + timedelta(days=32)).replace(day=1)
    else:
        end = start + STEPS[len(digits)]
    return start, end


def http_date(moment: datetime) -> str:
    """An RFC 7231 IMF-fixdate, as Memento-Datetime wants it."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def parse_http_date(text: str) -> datetime:
    """An Accept-Datetime value (RFC 1123 date) as an aware UTC datetime."""
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise BadTimestamp(
            "Accept-Datetime 应为 RFC 1123 格式，如 Tue, 05 Mar 2024 06:00:00 GMT"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def captures_of(url: str) -> QuerySet[Capture]:
    """Every capture of the page ``url`` names, oldest first (``BadUrl`` if it names none);
    ``Http404``/``Blocked`` if a takedown rule covers it."""
    key = surt(url)
    visibility.guard_surt(key, url)
    return Capture.objects.filter(surt=key).order_by("captured_at", "id")


def closest(url: str, moment: datetime | None) -> Capture | None:
    """The capture of ``url`` nearest to ``moment`` (the newest when ``moment`` is None);
    on a tie the earlier one."""
    captures = captures_of(url)
    if moment is None:
        return captures.order_by("-captured_at", "-id").first()
    before = captures.filter(captured_at__lte=moment).order_by("-captured_at", "-id").first()
    after = captures.filter(captured_at__gt=moment).order_by("captured_at", "id").first()
    if before is None or after is None:
        return before or after
    return before if moment - before.captured_at <= after.captured_at - moment else after


def _url_part(url: str) -> str:
    return quote(url, safe=":/?&=%#;,+@!$'()*[]~")


def memento_path(capture: Capture, modifier: str = "") -> str:
    return f"/web/{ts14(capture.captured_at)}{modifier}/{_url_part(capture.url)}"


def timegate_path(url: str) -> str:
    return f"/web/{_url_part(url)}"


def timemap_path(url: str) -> str:
    return f"/web/timemap/link/{_url_part(url)}"


def link(target: str, rel: str, **params: str) -> str:
    extra = "".join(f'; {name}="{value}"' for name, value in params.items())
    return f'<{_url_part(target)}>; rel="{rel}"{extra}'


__all__ = [
    "LINK_FORMAT",
    "BadTimestamp",
    "BadUrl",
    "captures_of",
    "closest",
    "http_date",
    "link",
    "memento_path",
    "parse_http_date",
    "timegate_path",
    "timemap_path",
    "timestamp_range",
    "ts14",
]
