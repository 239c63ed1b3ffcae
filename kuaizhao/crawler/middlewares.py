"""Downloader middlewares: the address guard (engine side), the WARC recorder (downloader side)."""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured, StopDownload
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future

from kuaizhao.crawler.safety import OUTLET_META, OutletMap, is_public, parse_ip, resolve
from kuaizhao.crawler.state import CrawlState, Fetch, failed_for_now
from kuaizhao.warc import CaptureRef, WarcWriter

log = logging.getLogger(__name__)

KIND_META = "kuaizhao_kind"
"""Request meta key: page, article, feed, sitemap, image (absent for robots.txt)."""

ANSWERED_META = "kuaizhao_answered"
"""Request meta: tries of it (retries carry it) already recorded as failed answers (5xx...)."""

WARC_DIR_SETTING = "KUAIZHAO_WARC_DIR"
WARC_MAX_SIZE_SETTING = "KUAIZHAO_WARC_MAX_SIZE"
WARC_MAX_AGE_SETTING = "KUAIZHAO_WARC_MAX_AGE"
"""Seconds after which the open WARC file is closed (so ingest sees it) and a new one begun."""

_KEPT_TYPES = (
    "text/html",
    "application/xhtml+xml",
    "text/xml",
    "application/xml",
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "text/plain",
)
_BINARY_TYPES = ("application/octet-stream", "application/gzip", "application/x-gzip")


def media_type(value: bytes | str | None) -> str:
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return (value or "").split(";", 1)[0].strip().lower()


def is_kept_type(content_type: str, kind: str | None) -> bool:
    """True for responses the archive keeps: HTML, XML and feeds, images (and unlabeled ones)."""
    if not content_type or content_type in _KEPT_TYPES or content_type.startswith("image/"):
        return True
    if content_type.endswith("+xml"):
        return True
    return kind in ("sitemap", "image") and content_type in _BINARY_TYPES


def _outlet_map(crawler: Any) -> OutletMap:
    """The spider's outlet map (shared by both middlewares), or one built from its outlets."""
    shared = getattr(crawler.spider, "outlet_map", None)
    if isinstance(shared, OutletMap):
        return shared
    return OutletMap(getattr(crawler.spider, "outlets", []))


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _header_pairs(headers: Any) -> list[tuple[str, str]]:
    pairs = []
    for name, values in headers.items():
        key = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        for value in values:
            text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
            pairs.append((key, text))
    return pairs


class AddressGuardMiddleware:
    """Refuses requests whose host resolves to a non-public address.

    Outlets with ``allow_private = true`` (and robots.txt requests to their
    hosts) are exempt. Placed before RobotsTxtMiddleware so a refused request
    triggers no robots.txt fetch either.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self._map: OutletMap | None = None
        self._resolved: dict[tuple[str, int], list[str]] = {}
        self._warned: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> AddressGuardMiddleware:
        return cls(crawler)

    @property
    def outlets(self) -> OutletMap:
        if self._map is None:
            self._map = _outlet_map(self.crawler)
        return self._map

    async def process_request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise IgnoreRequest(f"refused: not an http(s) URL: {request.url}")
        if self.outlets.allows_private(request.url, request.meta.get(OUTLET_META)):
            return
        port = parts.port or (443 if parts.scheme == "https" else 80)
        for address in await self._addresses(parts.hostname, port):
            ip = parse_ip(address)
            if ip is None or not is_public(ip):
                self._refuse(request, parts.hostname, address)

    async def _addresses(self, host: str, port: int) -> list[str]:
        literal = parse_ip(host)
        if literal is not None:
            return [str(literal)]
        key = (host.lower(), port)
        if key not in self._resolved:
            from twisted.internet.threads import deferToThread

            try:
                self._resolved[key] = await maybe_deferred_to_future(
                    deferToThread(resolve, host, port)
                )
            except OSError:
                return []  # unresolvable: the download itself reports the DNS error
        return self._resolved[key]

    def _refuse(self, request: Request, host: str, address: str) -> None:
        self.crawler.stats.inc_value("kuaizhao/refused_private")
        if host not in self._warned:
            self._warned.add(host)
            log.warning(
                "refused %s: %s resolves to the non-public address %s and outlet %r "
                "does not set allow_private",
                request.url, host, address, request.meta.get(OUTLET_META),
            )  # fmt: skip
        raise IgnoreRequest(f"refused: {host} resolves to non-public address {address}")


def article_of(request: Request) -> str | None:
    """The article (its first page's URL) a request for a later page belongs to."""
    if request.meta.get(KIND_META) != "part":
        return None
    article = request.cb_kwargs.get("article")
    return str(article) if article else None


def crawl_id() -> str:
    """Names this crawler process's run in every record it writes: start time, host, pid."""
    started = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{started}-{socket.gethostname()}-{os.getpid()}"


class WarcRecorderMiddleware:
    """Writes every response, exactly as downloaded, to the WARC files.

    Sits next to the downloader (after HttpCompressionMiddleware in request
    order) so bodies are stored still content-encoded. Responses of types the
    archive does not keep are stopped at their headers and not written.
    """

    def __init__(self, crawler: Any, directory: Path) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.directory = directory
        self.max_size = crawler.settings.getint(WARC_MAX_SIZE_SETTING, 1_000_000_000)
        self.max_age = crawler.settings.getfloat(WARC_MAX_AGE_SETTING, 0.0)
        self.info = {
            "crawl": crawl_id(),
            "http-header-user-agent": str(crawler.settings.get("USER_AGENT", "")),
            "robots": "obey" if crawler.settings.getbool("ROBOTSTXT_OBEY") else "ignore",
        }
        self._writer: WarcWriter | None = None
        self._opened_at: float | None = None
        self._map: OutletMap | None = None
        self._closed_files: list[str] = []
        crawler.signals.connect(self.headers_received, signal=signals.headers_received)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> WarcRecorderMiddleware:
        directory = crawler.settings.get(WARC_DIR_SETTING)
        if not directory:
            raise NotConfigured(f"{WARC_DIR_SETTING} is not set")
        return cls(crawler, Path(directory))

    @property
    def state(self) -> CrawlState | None:
        return getattr(self.crawler.spider, "state", None)

    @property
    def writer(self) -> WarcWriter:
        """The writer, made on first use with the crawl state's digests (revisits across crawls)."""
        if self._writer is None:
            # A fresh writer per WARC file, knowing the digests of what may be fetched
            # again while that file is open: memory bounded by what is due, not by history.
            until = time.time() + max(2 * self.max_age, 600.0)
            known = self.state.known_digests(until) if self.state is not None else {}
            self._writer = WarcWriter(
                self.directory, max_size=self.max_size, info=self.info, known_digests=known
            )
        return self._writer

    def rollover(self, force: bool = False) -> None:
        """Close the open WARC file once it is older than the configured age (or ``force``)."""
        writer = self._writer
        if writer is None or writer.current_file is None or self._opened_at is None:
            return
        if force or (self.max_age > 0 and time.monotonic() - self._opened_at >= self.max_age):
            writer.close()
            self._retire(writer)

    @property
    def outlets(self) -> OutletMap:
        if self._map is None:
            self._map = _outlet_map(self.crawler)
        return self._map

    def headers_received(self, headers: Any, request: Request) -> None:
        content_type = media_type(headers.get(b"Content-Type"))
        if not is_kept_type(content_type, request.meta.get(KIND_META)):
            self.stats.inc_value("kuaizhao/skipped_type")
            log.info("not kept (%s): %s", content_type, request.url)
            raise StopDownload(fail=True)

    def process_response(self, request: Request, response: Response) -> Response:
        slug = request.meta.get(OUTLET_META)
        ip = response.ip_address
        if (
            ip is not None
            and not is_public(ip)
            and not self.outlets.allows_private(request.url, slug)
        ):
            self.stats.inc_value("kuaizhao/refused_private")
            raise IgnoreRequest(f"refused: {request.url} was served from non-public address {ip}")
        if "download_stopped" in response.flags:
            return response
        content_type = media_type(response.headers.get(b"Content-Type"))
        if not is_kept_type(content_type, request.meta.get(KIND_META)):
            self.stats.inc_value("kuaizhao/skipped_type")
            raise IgnoreRequest(f"not kept ({content_type}): {request.url}")
        at = time.time()  # the WARC-Date and the state's capture time: one instant
        ref = self._record(request, response, slug, at)
        state = self.state
        if state is not None and request.meta.get(KIND_META):
            state.record(
                Fetch(
                    url=request.url,
                    outlet=str(slug or ""),
                    kind=str(request.meta.get(KIND_META)),
                    status=response.status,
                    digest=ref.payload_digest,
                    record_type=ref.record_type,
                    etag=_header(response, b"ETag"),
                    last_modified=_header(response, b"Last-Modified"),
                    at=at,
                    warc_file=ref.warc_file,
                    offset=ref.offset,
                    record_id=ref.record_id,
                    article=article_of(request),
                )
            )
            if failed_for_now(response.status):
                request.meta[ANSWERED_META] = int(request.meta.get(ANSWERED_META, 0)) + 1
        return response

    def _record(
        self, request: Request, response: Response, slug: str | None, at: float
    ) -> CaptureRef:
        outlet = self.outlets.for_request(request.url, slug)
        name = outlet.slug if outlet else None
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = ""
        # A 304 confirms the capture the conditional request was made from: a revisit of it.
        state = self.state
        confirmed = None
        if response.status == 304 and state is not None:
            confirmed = state.prior_capture(request.url)
        writer = self.writer
        if writer.current_file is None:
            self._opened_at = time.monotonic()
        ref = writer.write_capture(
            url=response.url,
            method=request.method,
            request_headers=_header_pairs(request.headers),
            status=response.status,
            reason=reason,
            response_headers=_header_pairs(response.headers),
            body=response.body,
            captured_at=datetime.fromtimestamp(at, UTC),
            protocol=response.protocol or "HTTP/1.1",
            ip=str(response.ip_address) if response.ip_address is not None else None,
            outlet=name,
            not_modified=confirmed,
        )
        size = len(response.body)
        self.stats.inc_value("kuaizhao/responses")
        self.stats.inc_value("kuaizhao/bytes", size)
        self.stats.inc_value(f"kuaizhao/status/{response.status}")
        self.stats.inc_value(f"kuaizhao/record/{ref.record_type}")
        if name:
            self.stats.inc_value(f"kuaizhao/outlet/{name}/responses")
            self.stats.inc_value(f"kuaizhao/outlet/{name}/bytes", size)
            if response.status == 200:
                self.stats.set_value(f"kuaizhao/outlet/{name}/last_success", time.time())
            if ref.record_type == "revisit" or response.status == 304:
                self.stats.inc_value(f"kuaizhao/outlet/{name}/unchanged")
            if response.status in (404, 410) and request.meta.get(KIND_META) in ("article", "part"):
                self.stats.inc_value(f"kuaizhao/outlet/{name}/gone")
        if writer.current_file is None:  # rolled over by size
            self._retire(writer)
        return ref

    def _retire(self, writer: WarcWriter) -> None:
        self._closed_files.extend(p.name for p in writer.closed_files)
        self._writer = None
        self._opened_at = None

    def spider_closed(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._retire(self._writer)
        self.stats.set_value("kuaizhao/warc_files", list(self._closed_files))
