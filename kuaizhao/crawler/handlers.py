"""The HTTP download handler: Scrapy's, keeping as many idle connections per host as the
outlets on that host may use at once."""

from __future__ import annotations

from typing import Any

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler

PERSISTENT_PER_HOST_SETTING = "KUAIZHAO_PERSISTENT_PER_HOST"
"""Idle connections kept open per host (Scrapy keeps CONCURRENT_REQUESTS_PER_DOMAIN)."""


class PooledHttpHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler with a connection pool sized for the outlets' slots.

    Scrapy keeps ``CONCURRENT_REQUESTS_PER_DOMAIN`` (2) idle connections per host, but an
    outlet's download slot may run more requests at a time (``politeness.concurrency``), and
    several outlets may share a host: every response beyond the pool closed its connection
    and the next request opened a new one.
    """

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        wanted = crawler.settings.getint(PERSISTENT_PER_HOST_SETTING, 0)
        self._pool.maxPersistentPerHost = max(self._pool.maxPersistentPerHost, wanted)
