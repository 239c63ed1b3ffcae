"""Run one crawl of a set of outlets into a WARC directory (one per process)."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy.crawler import CrawlerProcess

from kuaizhao.crawler.handlers import PERSISTENT_PER_HOST_SETTING
from kuaizhao.crawler.middlewares import (
    WARC_DIR_SETTING,
    WARC_MAX_AGE_SETTING,
    WARC_MAX_SIZE_SETTING,
)
from kuaizhao.crawler.progress import StatsFile, stats_path
from kuaizhao.crawler.recover import recover_open_files
from kuaizhao.crawler.spider import OutletSpider
from kuaizhao.crawler.state import Schedule, SqliteState, open_state
from kuaizhao.lib.outlets import Outlet
from kuaizhao.warc import iter_captures

_MW = "kuaizhao.crawler.middlewares"
_HANDLER = "kuaizhao.crawler.handlers.PooledHttpHandler"
_UNUSED_SPIDER_MIDDLEWARES: dict[str, int | None] = {
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
}


@dataclass(frozen=True)
class CrawlStats:
    """What one crawl did."""

    responses: int = 0
    """Responses written to the WARC files (every status, robots.txt included)."""
    articles: int = 0
    """Article pages (first pages matching an article pattern) fetched."""
    bytes: int = 0
    """Body bytes written, as transferred (still content-encoded)."""
    errors: int = 0
    """Failed downloads plus final HTTP error statuses (4xx/5xx) on followed links."""
    refused: int = 0
    """Requests refused because their host is not public."""
    robots_forbidden: int = 0
    skipped: int = 0
    """Responses not kept because of their content type."""
    revisits: int = 0
    """Captures recorded as revisits (same payload as an earlier capture of the URL)."""
    not_modified: int = 0
    """Conditional re-checks answered 304."""
    already_captured: int = 0
    """Discovered URLs not fetched because an earlier crawl captured them."""
    recovered: list[str] = field(default_factory=list)
    """WARC files left open by a killed crawler, repaired and closed before this crawl."""
    per_outlet: dict[str, dict[str, int]] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    duration: float = 0.0
    finish_reason: str = ""
    warc_files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def crawl_settings(
    outlets: list[Outlet],
    warc_dir: Path,
    *,
    user_agent: str,
    max_response_bytes: int = 10_485_760,
    timeout: int = 30,
    log_file: Path | None = None,
    max_pages: int | None = None,
    schedule: Schedule | None = None,
    warc_max_age: float = 0.0,
    redis_url: str = "",
    redis_prefix: str = "kuaizhao",
    seen_capacity: int = 10_000_000,
) -> dict[str, Any]:
    """Scrapy settings for one crawl."""
    schedule = schedule or Schedule()
    slots = {
        o.slug: {"concurrency": o.concurrency, "delay": o.delay, "jitter": 0.5 if o.delay else 0.0}
        for o in outlets
    }
    per_host: dict[str, int] = {}
    for o in outlets:
        host = (urlsplit(o.home).hostname or "").lower()
        per_host[host] = per_host.get(host, 0) + o.concurrency
    settings: dict[str, Any] = {
        "BOT_NAME": "kuaizhao",
        "USER_AGENT": user_agent,
        "ROBOTSTXT_OBEY": True,
        "DOWNLOAD_MAXSIZE": max_response_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "DOWNLOAD_TIMEOUT": timeout,
        "DNS_TIMEOUT": timeout,
        "REDIRECT_MAX_TIMES": 5,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 2,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "RETRY_BACKOFF_BASE": 1.0,
        "RETRY_BACKOFF_MAX": 300.0,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": 0.0,
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 2.0,
        "DOWNLOAD_SLOTS": slots,
        "CONCURRENT_REQUESTS": max(16, sum(o.concurrency for o in outlets)),
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        # The callbacks yield requests only (no items, no pipelines): Scrapy's default of 100
        # would start 100 asyncio tasks per response to hand them over, in order all the same.
        "CONCURRENT_ITEMS": 1,
        "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue",
        "DUPEFILTER_CLASS": "kuaizhao.crawler.seen.SeenFilter",
        "CLOSESPIDER_PAGECOUNT": max_pages or 0,
        # Link depth is the spider's own (LIST_DEPTH), and meta copying is a development
        # check: two spider middleware layers fewer for every request a page yields.
        "SPIDER_MIDDLEWARES": dict(_UNUSED_SPIDER_MIDDLEWARES),
        "DOWNLOAD_HANDLERS": {"http": _HANDLER, "https": _HANDLER},
        PERSISTENT_PER_HOST_SETTING: max(per_host.values(), default=0),
        "DOWNLOADER_MIDDLEWARES": {
            "kuaizhao.takedown.crawling.TakedownMiddleware": 70,
            f"{_MW}.AddressGuardMiddleware": 75,
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "kuaizhao.crawler.politeness.BackoffRetryMiddleware": 550,
            f"{_MW}.WarcRecorderMiddleware": 950,
        },
        WARC_DIR_SETTING: str(warc_dir),
        WARC_MAX_SIZE_SETTING: 1_000_000_000,
        WARC_MAX_AGE_SETTING: warc_max_age,
        "KUAIZHAO_LIST_INTERVAL_MIN": schedule.list_min,
        "KUAIZHAO_LIST_INTERVAL_MAX": schedule.list_max,
        "KUAIZHAO_SEEN_CAPACITY": seen_capacity,
        "KUAIZHAO_REDIS_PREFIX": redis_prefix,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_LEVEL": "INFO",
        "LOG_FILE": str(log_file) if log_file else None,
        "LOG_FILE_APPEND": True,
        "LOGSTATS_INTERVAL": 60.0,
    }
    if redis_url:
        settings.update(
            {
                "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
                "SCHEDULER_PERSIST": True,
                "SCHEDULER_QUEUE_KEY": f"{redis_prefix}:requests",
                "SCHEDULER_QUEUE_CLASS": "kuaizhao.crawler.frontier.LeasedPriorityQueue",
                "SPIDER_MIDDLEWARES": {
                    **_UNUSED_SPIDER_MIDDLEWARES,
                    "kuaizhao.crawler.frontier.LeaseReleaseMiddleware": 10,
                },
                "SCHEDULER_DUPEFILTER_KEY": f"{redis_prefix}:dupefilter",
                "REDIS_URL": redis_url,
            }
        )
    return settings


def _int(stats: dict[str, Any], key: str) -> int:
    return int(stats.get(key, 0) or 0)


def _collect(stats: dict[str, Any], outlets: list[Outlet], duration: float) -> CrawlStats:
    per_outlet = {
        o.slug: {
            kind: _int(stats, f"kuaizhao/outlet/{o.slug}/{kind}")
            for kind in ("responses", "articles", "bytes")
        }
        for o in outlets
    }
    statuses = {
        key.rsplit("/", 1)[1]: int(value)
        for key, value in sorted(stats.items())
        if key.startswith("kuaizhao/status/")
    }
    return CrawlStats(
        responses=_int(stats, "kuaizhao/responses"),
        articles=_int(stats, "kuaizhao/articles"),
        bytes=_int(stats, "kuaizhao/bytes"),
        errors=_int(stats, "kuaizhao/errors") + _int(stats, "kuaizhao/http_errors"),
        refused=_int(stats, "kuaizhao/refused_private"),
        robots_forbidden=_int(stats, "robotstxt/forbidden"),
        skipped=_int(stats, "kuaizhao/skipped_type"),
        revisits=_int(stats, "kuaizhao/record/revisit"),
        not_modified=_int(stats, "kuaizhao/status/304"),
        already_captured=_int(stats, "kuaizhao/already_captured"),
        per_outlet=per_outlet,
        statuses=statuses,
        duration=round(duration, 3),
        finish_reason=str(stats.get("finish_reason", "")),
        warc_files=list(stats.get("kuaizhao/warc_files", [])),
    )


def crawl(
    outlets: list[Outlet],
    warc_dir: Path,
    *,
    user_agent: str,
    max_response_bytes: int = 10_485_760,
    timeout: int = 30,
    log_file: Path | None = None,
    max_pages: int | None = None,
    state_dir: Path | None = None,
    forever: bool = False,
    schedule: Schedule | None = None,
    warc_max_age: float = 0.0,
    redis_url: str = "",
    redis_prefix: str = "kuaizhao",
    seen_capacity: int = 10_000_000,
) -> CrawlStats:
    """Crawl ``outlets`` until the frontier is empty, or ``forever`` (blocking; once per process).

    With ``state_dir`` (or ``redis_url``) the crawl keeps its state across runs:
    open WARC files of killed crawlers are recovered first, captured URLs are
    not fetched again, due articles are re-checked, pending ones resumed.
    """
    schedule = schedule or Schedule()
    settings = crawl_settings(
        outlets,
        warc_dir,
        user_agent=user_agent,
        max_response_bytes=max_response_bytes,
        timeout=timeout,
        log_file=log_file,
        max_pages=max_pages,
        schedule=schedule,
        warc_max_age=warc_max_age,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        seen_capacity=seen_capacity,
    )
    Path(warc_dir).mkdir(parents=True, exist_ok=True)
    if log_file is not None:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
    recovered = recover_open_files(Path(warc_dir))
    state = None
    stats_file = None
    redis_client = None
    if state_dir is not None or redis_url:
        home = Path(state_dir) if state_dir is not None else Path(warc_dir).parent
        state = open_state(home, schedule, redis_url, redis_prefix)
        if isinstance(state, SqliteState):
            for item in recovered:  # captures written just before the crash was recorded
                state.reconcile(iter_captures(item.path, errors=[]))
        stats_file = StatsFile(stats_path(home), forever)
        if redis_url:
            import redis

            redis_client = redis.Redis.from_url(redis_url)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(OutletSpider)
    process.crawl(
        crawler,
        outlets=outlets,
        state=state,
        forever=forever,
        redis=redis_client,
        stats_file=stats_file,
    )
    # Scrapy leaves the root logger at NOTSET (set again as the crawler is made) and filters
    # in its handler, so every DEBUG message (one for each response, and charset
    # detection's) is built, then dropped. Records below LOG_LEVEL are not made at all.
    logging.root.setLevel(settings["LOG_LEVEL"])
    started = time.monotonic()
    try:
        process.start()
    finally:
        if state is not None:
            state.close()
    result = _collect(crawler.stats.get_stats(), outlets, time.monotonic() - started)
    return CrawlStats(**{**result.as_dict(), "recovered": [r.path.name for r in recovered]})
