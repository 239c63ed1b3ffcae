"""Retries with exponential backoff that honour ``Retry-After`` (replaces Scrapy's RetryMiddleware).

A 5xx/408/429 response or a timeout/connection failure is retried up to
``RETRY_TIMES`` times, after ``RETRY_BACKOFF_BASE * 2**n`` seconds (capped by
``RETRY_BACKOFF_MAX``) or after the server's ``Retry-After`` (seconds or an
HTTP date, capped the same way). The wait happens before the retried request
reaches the downloader, so it holds no download slot.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.misc import load_object
from twisted.internet.task import deferLater

log = logging.getLogger(__name__)


def _clock() -> Any:
    from twisted.internet import reactor

    return reactor


NOT_BEFORE_META = "kuaizhao_not_before"


def retry_after(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header value, or None if absent or unreadable.

    >>> retry_after(b"120")
    120.0
    >>> retry_after("Wed, 21 Oct 2015 07:28:00 GMT", datetime(2015, 10, 21, 7, 27, tzinfo=UTC))
    60.0
    >>> retry_after("soon") is None
    True
    """
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class BackoffRetryMiddleware:
    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.max_times = settings.getint("RETRY_TIMES", 2)
        self.codes = {int(c) for c in settings.getlist("RETRY_HTTP_CODES")}
        self.exceptions = tuple(load_object(e) for e in settings.getlist("RETRY_EXCEPTIONS"))
        self.base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX", 300.0)

    @classmethod
    def from_crawler(cls, crawler: Any) -> BackoffRetryMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        clock = _clock()
        wait = float(request.meta.get(NOT_BEFORE_META, 0.0)) - clock.seconds()
        if wait > 0:
            await maybe_deferred_to_future(deferLater(clock, wait, lambda: None))

    def _delay(self, request: Request, hinted: float | None) -> float:
        attempt = int(request.meta.get("retry_times", 0))
        backoff = self.base * (2**attempt)
        return float(min(self.cap, hinted if hinted is not None else backoff))

    def _retry(self, request: Request, reason: str, hinted: float | None) -> Request | None:
        retried = get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=reason,
            max_retry_times=request.meta.get("max_retry_times", self.max_times),
        )
        if retried is None:
            log.warning("gave up on %s after retries: %s", request.url, reason)
            return None
        delay = self._delay(request, hinted)
        retried.meta[NOT_BEFORE_META] = _clock().seconds() + delay
        log.info("retrying %s in %.1fs: %s", request.url, delay, reason)
        self.crawler.stats.inc_value("kuaizhao/retries")
        return retried

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry") or response.status not in self.codes:
            return response
        hinted = retry_after(response.headers.get(b"Retry-After"))
        return self._retry(request, f"HTTP {response.status}", hinted) or response

    def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if request.meta.get("dont_retry") or not isinstance(exception, self.exceptions):
            return None
        return self._retry(request, type(exception).__name__, None)
