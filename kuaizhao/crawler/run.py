"""Run one crawl of a set of outlets into a WARC directory (one per process)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess

from kuaizhao.crawler.middlewares import WARC_DIR_SETTING, WARC_MAX_SIZE_SETTING
from kuaizhao.crawler.spider import OutletSpider
from kuaizhao.lib.outlets import Outlet

_MW = "kuaizhao.crawler.middlewares"


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
) -> dict[str, Any]:
    """Scrapy settings for one crawl."""
    slots = {
        o.slug: {"concurrency": o.concurrency, "delay": o.delay, "jitter": 0.5 if o.delay else 0.0}
        for o in outlets
    }
    return {
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
        "DOWNLOAD_SLOTS": slots,
        "CONCURRENT_REQUESTS": max(16, sum(o.concurrency for o in outlets)),
        "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
        "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue",
        "CLOSESPIDER_PAGECOUNT": max_pages or 0,
        "DOWNLOADER_MIDDLEWARES": {
            f"{_MW}.AddressGuardMiddleware": 75,
            f"{_MW}.WarcRecorderMiddleware": 950,
        },
        WARC_DIR_SETTING: str(warc_dir),
        WARC_MAX_SIZE_SETTING: 1_000_000_000,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_LEVEL": "INFO",
        "LOG_FILE": str(log_file) if log_file else None,
        "LOG_FILE_APPEND": True,
        "LOGSTATS_INTERVAL": 60.0,
    }


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
) -> CrawlStats:
    """Crawl ``outlets`` until the frontier is empty (blocking; once per process)."""
    settings = crawl_settings(
        outlets,
        warc_dir,
        user_agent=user_agent,
        max_response_bytes=max_response_bytes,
        timeout=timeout,
        log_file=log_file,
        max_pages=max_pages,
    )
    Path(warc_dir).mkdir(parents=True, exist_ok=True)
    if log_file is not None:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(OutletSpider)
    process.crawl(crawler, outlets=outlets)
    started = time.monotonic()
    process.start()
    return _collect(crawler.stats.get_stats(), outlets, time.monotonic() - started)
