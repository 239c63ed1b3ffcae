"""One generic spider for every outlet, driven by its :class:`~kuaizhao.lib.outlets.Outlet` config.

What is followed:

* list pages (start URLs, and in-scope non-article pages reached from them up
  to :data:`LIST_DEPTH` hops): every in-scope link. Article-pattern links are
  fetched as articles; pagination (``index_2.html``, ``?page=2``, 下一页) is
  followed without counting as a hop, up to :data:`MAX_LIST_PAGES` pages.
* feeds (RSS, Atom) and sitemaps (indexes, urlsets, news sitemaps): every
  in-scope entry is fetched as an article page.
* article pages: their continuation pages (``_2.html``, ``?page=2``), their
  images (any host), and in-scope article-pattern links. Nothing else.

Ignored URLs (``ignore_patterns``) are never requested.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import lxml.etree
from scrapy import Request, Spider, signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest, StopDownload
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.response import get_base_url
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure
from w3lib.url import safe_url_string

from kuaizhao.crawler.links import (
    Continuations,
    HostScope,
    RecentSet,
    absolute,
    feed_links,
    href_host,
    is_page_like,
    is_pagination,
    is_safe_ascii,
    series,
    sitemap_locations,
)
from kuaizhao.crawler.middlewares import ANSWERED_META, KIND_META, article_of
from kuaizhao.crawler.progress import StatsFile
from kuaizhao.crawler.safety import OUTLET_META, OutletMap
from kuaizhao.crawler.seen import pending_of
from kuaizhao.crawler.state import NO_ANSWER, CrawlState, Fetch, Pending
from kuaizhao.lib.outlets import Outlet


def anchor_text(anchor: Any) -> str:
    """The text of a link as a reader sees it (comments and tails left out)."""
    return str(lxml.etree.tostring(anchor, method="text", encoding=str, with_tail=False)).strip()


ASKED_CAPACITY = 200_000
"""Article links remembered as asked for by this process (about 30 MB at most)."""
LIST_DEPTH = 2
"""Hops from a start URL through in-scope non-article pages (pagination not counted)."""
MAX_LIST_PAGES = 50
"""Pages of one paginated list followed from its first page."""
MAX_ARTICLE_PAGES = 50
"""Highest continuation page number fetched for one article."""

PRIORITY = {
    "robots": 1000, "image": 30, "part": 40, "article": 20, "feed": 10, "sitemap": 10, "page": 0,
}  # fmt: skip
SOURCE_META = "kuaizhao_source"
"""Request meta: set on a scheduled source (start URL, feed, sitemap) visit."""
RECHECK_META = "kuaizhao_recheck"
TICK = 1.0
"""Seconds between two looks at the schedules (``--forever``)."""
RECHECK_BATCH = 200
_IMAGE_XPATH = "//img/@src | //img/@data-src | //img/@data-original"
_HREFS = lxml.etree.XPath("//a/@href", smart_strings=False)


def _charset(capture: Any) -> str | None:
    for param in str(capture.header("Content-Type") or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return None


class OutletSpider(Spider):
    """Crawls every configured outlet: until the frontier is empty, or ``forever``.

    With a crawl ``state``, what was captured before is not fetched again,
    the pending frontier of a killed crawl is resumed, articles due for a
    re-check are fetched with conditional requests, and (``forever``) the
    sources are re-visited on their adaptive schedule.
    """

    name = "kuaizhao"

    def __init__(
        self,
        outlets: list[Outlet],
        *args: Any,
        state: CrawlState | None = None,
        forever: bool = False,
        redis: Any = None,
        stats_file: StatsFile | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.outlets = list(outlets)
        self.by_slug = {o.slug: o for o in self.outlets}
        self.outlet_map = OutletMap(self.outlets)
        self.state = state
        self.forever = forever
        self.redis = redis
        self.stats_file = stats_file
        self._loop: LoopingCall | None = None
        self._host_scopes: dict[str, HostScope] = {}
        # Related-news lists repeat the same article links on every page; a request built
        # only for the scheduler to drop it as a duplicate costs more than the page's parse.
        self._asked = RecentSet(ASKED_CAPACITY)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> OutletSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.on_opened, signal=signals.spider_opened)
        crawler.signals.connect(spider.on_closed, signal=signals.spider_closed)
        return spider

    async def start(self) -> AsyncIterator[Request]:
        now = time.time()
        if self.state is not None:
            for request in self.reexpand():
                yield request
            resumed = self.state.pending()
            if resumed:
                self.logger.info("resuming %d pending requests", len(resumed))
            for item in resumed:
                resumed_request = self.pending_request(item)
                if resumed_request is not None:
                    yield resumed_request
        for outlet in self.outlets:
            for request in self.seed_requests(outlet):
                source = request.meta.get(SOURCE_META)
                if self.state is None or not source:
                    yield request
                    continue
                claimed = self.state.claim_source(source, outlet.slug, request.meta[KIND_META], now)
                if claimed or not self.forever:
                    yield request
        for request in self.due_requests(now):
            yield request

    def reexpand(self) -> Iterator[Request]:
        """Links of article pages captured just before a crash, parsed again from the WARC."""
        from kuaizhao.crawler.middlewares import WARC_DIR_SETTING
        from kuaizhao.warc import WarcError, read_capture

        assert self.state is not None
        directory = Path(self.crawler.settings.get(WARC_DIR_SETTING) or ".")
        for item, warc_file, offset in self.state.unexpanded():
            outlet = self.by_slug.get(item.outlet)
            try:
                capture = read_capture(directory / warc_file, offset)
            except (OSError, WarcError) as exc:
                self.logger.warning("cannot re-read %s from %s: %s", item.url, warc_file, exc)
                self.state.mark_expanded(item.url)
                continue
            if outlet is None or capture.url != item.url:
                self.state.mark_expanded(item.url)
                continue
            request = Request(item.url, meta={OUTLET_META: outlet.slug, KIND_META: item.kind})
            response = HtmlResponse(
                item.url, body=capture.payload, encoding=_charset(capture), request=request
            )
            part = series(item.url)[1] if item.kind == "part" else 1
            article = item.article or item.url  # a later page: its article's first page
            yield from self.parse_article(response, outlet.slug, article, part)

    def seed_requests(self, outlet: Outlet) -> Iterator[Request]:
        """Requests for an outlet's start URLs (or home), feeds and sitemaps."""
        for url in outlet.start_urls or (outlet.home,):
            if outlet.is_article_url(url):
                yield self.article_request(outlet, url)
            else:
                yield self.source_request(Pending(url, outlet.slug, "page"), conditional=False)
        for url in outlet.feeds:
            yield self.source_request(Pending(url, outlet.slug, "feed"), conditional=False)
        for url in outlet.sitemaps:
            yield self.source_request(Pending(url, outlet.slug, "sitemap"), conditional=False)

    def source_request(self, item: Pending, conditional: bool = True) -> Request:
        """A (re-)visit of a source; conditional when its validators are known.

        The first visit after a start is unconditional: the lists it leads to are not in
        the pending frontier, so a crawl that was killed must read them again.
        """
        outlet = self.by_slug[item.outlet]
        if item.kind == "feed":
            request = self._request(outlet, item.url, "feed", self.parse_feed)
        elif item.kind == "sitemap":
            request = self._request(outlet, item.url, "sitemap", self.parse_sitemap)
        else:
            request = self.list_request(outlet, item.url, depth=0, page=1)
        request.meta[SOURCE_META] = item.url
        if self.state is None or not conditional:
            return request
        request.meta["handle_httpstatus_list"] = [304]
        return request.replace(headers=self._conditional(item.url))

    def _conditional(self, url: str) -> dict[str, str]:
        headers = {}
        etag, modified = self.state.validators(url) if self.state else (None, None)
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        return headers

    def pending_request(self, item: Pending) -> Request | None:
        outlet = self.by_slug.get(item.outlet)
        if outlet is None:
            return None
        request: Request | None
        if item.kind == "image":
            request = self.image_request(outlet, item.url)
        elif item.kind == "part" and item.article:
            request = self.article_request(outlet, item.url, article=item.article)
        elif item.kind in ("article", "part"):
            request = self.article_request(outlet, item.url)
        else:
            return None
        return request

    def recheck_request(self, item: Pending) -> Request | None:
        """A conditional re-fetch of an article (or one of its later pages, as that page of
        its article: a state from before later pages kept their article has none to give)."""
        outlet = self.by_slug.get(item.outlet)
        if outlet is None or self.state is None:
            return None
        if item.kind == "part":
            article, part = item.article or item.url, series(item.url)[1]
            request = self._request(
                outlet, item.url, "part", self.parse_article, article=article, part=part
            )
        else:
            request = self._request(
                outlet, item.url, "article", self.parse_article, article=item.url, part=1
            )
        request.meta[RECHECK_META] = True
        request.meta["handle_httpstatus_list"] = [304]
        return request.replace(headers=self._conditional(item.url), dont_filter=True)

    def due_requests(self, now: float) -> Iterator[Request]:
        if self.state is None:
            return
        for item in self.state.due_rechecks(now, RECHECK_BATCH):
            request = self.recheck_request(item)
            if request is not None:
                self.crawler.stats.inc_value("kuaizhao/rechecks")
                yield request
        if self.forever:
            for item in self.state.due_sources(now):
                if item.outlet in self.by_slug:
                    self.crawler.stats.inc_value("kuaizhao/source_visits")
                    yield self.source_request(item)
        self.state.commit()

    def on_opened(self) -> None:
        self._loop = LoopingCall(self.tick)
        self._loop.start(TICK, now=False)

    def tick(self) -> None:
        """Every second: schedule what is due, roll WARC files over, write the stats file."""
        try:
            if self.forever:
                for request in self.due_requests(time.time()):
                    self.crawler.engine.crawl(request)
            recorder = self._recorder()
            if recorder is not None:
                recorder.rollover()
            frontier = getattr(self, "frontier", None)
            if frontier is not None:
                frontier.renew()
            if self.state is not None:
                self.state.commit()
            if self.stats_file is not None:
                self.stats_file.write(self.crawler, self.outlets)
        except Exception:  # the loop must survive one bad tick
            self.logger.exception("scheduling tick failed")

    def _recorder(self) -> Any:
        from kuaizhao.crawler.middlewares import WarcRecorderMiddleware

        for mw in self.crawler.engine.downloader.middleware.middlewares:
            if isinstance(mw, WarcRecorderMiddleware):
                return mw
        return None

    def on_idle(self) -> None:
        frontier = getattr(self, "frontier", None)
        if frontier is not None:
            # Idle: nothing this process took is in flight any more. Requests another
            # crawler took are not done until it releases them, or they come back to the
            # queue when it is found dead: a crawl of a shared frontier ends when both are.
            frontier.forget_held()
            if frontier.reclaim() or frontier.in_flight():
                raise DontCloseSpider
        if self.forever:
            raise DontCloseSpider

    def on_closed(self, reason: str) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self.stats_file is not None:
            self.stats_file.write(self.crawler, self.outlets, finished=reason)
        if self.state is not None:
            self.state.commit()

    @staticmethod
    def _meta(response: Response) -> dict[str, Any]:
        return response.request.meta if response.request is not None else {}

    def _visited(self, response: Response, new_links: int) -> None:
        source = self._meta(response).get(SOURCE_META)
        if source and self.state is not None:
            self.state.visited_source(source, new_links, time.time())

    def _is_new(self, url: str) -> bool:
        return self.state is None or not self.state.is_done(url)

    def _request(
        self, outlet: Outlet, url: str, kind: str, callback: Any, **cb_kwargs: Any
    ) -> Request:
        return Request(
            url,
            callback=callback,
            errback=self.on_error,
            priority=PRIORITY.get(kind, 0),
            cb_kwargs={"slug": outlet.slug, **cb_kwargs},
            meta={
                "download_slot": outlet.slug,
                OUTLET_META: outlet.slug,
                KIND_META: kind,
                "autothrottle_dont_adjust_delay": not outlet.autothrottle,
            },
        )

    def list_request(self, outlet: Outlet, url: str, *, depth: int, page: int) -> Request:
        return self._request(outlet, url, "page", self.parse_list, depth=depth, page=page)

    def article_request(self, outlet: Outlet, url: str, *, article: str | None = None) -> Request:
        """The first page of an article, or (``article`` given) one of its later pages."""
        if article is None:
            return self._request(outlet, url, "article", self.parse_article, article=url, part=1)
        part = series(url)[1]
        return self._request(outlet, url, "part", self.parse_article, article=article, part=part)

    def image_request(self, outlet: Outlet, url: str) -> Request:
        return self._request(outlet, url, "image", self.parse_image)

    @staticmethod
    def anchors(response: TextResponse) -> Iterator[tuple[str, str]]:
        """(absolute URL, anchor text) of every distinct link on an HTML page.

        This runs for every link of every page fetched, so it walks lxml's tree directly
        and skips the links it has already seen on the page (navigation repeats itself).
        """
        base = get_base_url(response)
        seen: set[tuple[str, str]] = set()
        for anchor in response.selector.root.iter("a"):
            href = anchor.get("href")
            text = anchor_text(anchor) if href else ""
            if not href or (href, text) in seen:
                continue
            seen.add((href, text))
            url = absolute(base, href)
            if url:
                yield url if is_safe_ascii(url) else safe_url_string(url, response.encoding), text

    def article_links(self, response: TextResponse, outlet: Outlet, article: str) -> Iterator[str]:
        """Absolute URLs of the links on an article page that may be its later pages or
        in-scope articles.

        An article page carries far more links than it needs following (navigation, partner
        lists), so off-site links are dropped on their text before any URL parsing, and
        anchor texts are not read.
        """
        scope = self._host_scopes.get(outlet.slug)
        if scope is None:
            scope = self._host_scopes[outlet.slug] = HostScope(outlet.scope)
        own = (urlsplit(article).hostname or "").lower()
        base = get_base_url(response)
        seen: set[str] = set()
        for href in _HREFS(response.selector.root):
            if href in seen:
                continue
            seen.add(href)
            host = href_host(href)
            if host is not None and host != own and not scope.may_hold(host):
                continue
            url = absolute(base, href)
            if url:
                yield url if is_safe_ascii(url) else safe_url_string(url, response.encoding)

    def parse_list(self, response: Response, slug: str, depth: int, page: int) -> Iterator[Request]:
        """A home, channel or list page: follow in-scope links, pagination, articles."""
        outlet = self.by_slug[slug]
        if not isinstance(response, TextResponse) or response.status == 304:
            self._visited(response, 0)
            return
        new = 0
        for url, text in self.anchors(response):
            if outlet.is_ignored(url) or not outlet.in_scope(url):
                continue
            if outlet.is_article_url(url):
                if self._meta(response).get(SOURCE_META) and self._is_new(url):
                    new += 1
                yield self.article_request(outlet, url)
            elif not is_page_like(url):
                continue
            elif is_pagination(url, response.url, text):
                if page < MAX_LIST_PAGES:
                    yield self.list_request(outlet, url, depth=depth, page=page + 1)
            elif depth < LIST_DEPTH:
                yield self.list_request(outlet, url, depth=depth + 1, page=1)
        self._visited(response, new)

    def parse_article(
        self, response: Response, slug: str, article: str, part: int
    ) -> Iterator[Request]:
        """An article page: continuation pages, images, other article links.

        With a crawl state they are in its frontier before the page counts as parsed: Scrapy
        schedules them only after this has returned, and a crawler killed in between must
        not lose them (the page is not parsed again).
        """
        requests = list(self._article_requests(response, slug, article, part))
        if self.state is not None and response.status != 304:
            self.state.mark_expanded(response.url, [pending_of(r) for r in requests])
        yield from requests

    def _article_requests(
        self, response: Response, slug: str, article: str, part: int
    ) -> Iterator[Request]:
        outlet = self.by_slug[slug]
        if response.status == 304:
            return
        if (
            part == 1
            and outlet.is_article_url(article)
            and not self._meta(response).get(RECHECK_META)
        ):
            self.crawler.stats.inc_value("kuaizhao/articles")
            self.crawler.stats.inc_value(f"kuaizhao/outlet/{slug}/articles")
        if not isinstance(response, TextResponse):
            return
        later = Continuations(article)
        for url in self.article_links(response, outlet, article):
            if outlet.is_ignored(url):
                continue
            if later(url):
                if series(url)[1] <= MAX_ARTICLE_PAGES:
                    yield self.article_request(outlet, url, article=article)
            elif outlet.in_scope(url) and outlet.is_article_url(url) and self._asked.add(url):
                yield self.article_request(outlet, url)
        base = get_base_url(response)
        for src in response.xpath(_IMAGE_XPATH).getall():
            image = absolute(base, src)
            if image and not outlet.is_ignored(image):
                yield self.image_request(outlet, safe_url_string(image, response.encoding))

    def parse_feed(self, response: Response, slug: str) -> Iterator[Request]:
        """An RSS or Atom feed: every in-scope item link is an article."""
        outlet = self.by_slug[slug]
        new = 0
        if response.status != 304:
            for url in feed_links(response.body, response.url):
                if outlet.in_scope(url) and not outlet.is_ignored(url):
                    new += self._is_new(url)
                    yield self.article_request(outlet, url)
        self._visited(response, new)

    def parse_sitemap(self, response: Response, slug: str) -> Iterator[Request]:
        """A sitemap index (follow its sitemaps) or urlset (every in-scope URL is an article)."""
        outlet = self.by_slug[slug]
        body = response.body
        if response.status == 304:
            self._visited(response, 0)
            return
        if gzip_magic_number(response):
            limit = self.crawler.settings.getint("DOWNLOAD_MAXSIZE")
            try:
                body = gunzip(body, max_size=limit)
            except (OSError, EOFError, ValueError):
                self.logger.warning("unreadable gzip sitemap %s", response.url)
                return
        kind, urls = sitemap_locations(body, response.url)
        host = response.url.split("/", 3)[:3]
        new = 0
        for url in urls:
            if outlet.is_ignored(url):
                continue
            if kind == "sitemapindex":
                if outlet.in_scope(url) or url.split("/", 3)[:3] == host:
                    yield self._request(outlet, url, "sitemap", self.parse_sitemap)
            elif kind == "urlset" and outlet.in_scope(url):
                new += self._is_new(url)
                yield self.article_request(outlet, url)
        self._visited(response, new)

    def parse_image(self, response: Response, slug: str) -> None:
        """Images are only archived (by the recorder); nothing to follow."""

    def on_error(self, failure: Failure) -> None:
        """Count failed requests; refusals and robots.txt exclusions are not errors.

        A download that got no answer (a timeout, a connection error: Scrapy's retries are
        spent by now) is a failed fetch in the crawl state, with no WARC record: tried again
        by the next run, up to :data:`~kuaizhao.crawler.state.FAILED_FETCHES` tries in a row.
        """
        request = getattr(failure, "request", None)
        try:
            if self._count_error(failure, request) and request is not None:
                self._no_answer(request)
        finally:
            frontier = getattr(self, "frontier", None)
            if frontier is not None:
                frontier.done(request)

    def _no_answer(self, request: Request) -> None:
        kind = request.meta.get(KIND_META)
        if self.state is None or not kind:
            return
        # The tries that got a (failed) answer were recorded as they came.
        tries = (
            int(request.meta.get("retry_times", 0)) + 1 - int(request.meta.get(ANSWERED_META, 0))
        )
        self.state.record(
            Fetch(
                url=request.url, outlet=str(request.meta.get(OUTLET_META) or ""), kind=str(kind),
                status=NO_ANSWER, digest=None, record_type=None, etag=None, last_modified=None,
                at=time.time(), article=article_of(request), tries=tries,
            )
        )  # fmt: skip

    def _count_error(self, failure: Failure, request: Request | None) -> bool:
        """Count one failed request; True if the download got no answer at all."""
        stats = self.crawler.stats
        error = failure.value
        slug = request.meta.get(OUTLET_META) if request is not None else None
        if isinstance(error, HttpError):
            stats.inc_value("kuaizhao/http_errors")
            if slug:
                stats.inc_value(f"kuaizhao/outlet/{slug}/errors")
        elif isinstance(error, StopDownload):
            return False
        elif isinstance(error, IgnoreRequest):
            stats.inc_value("kuaizhao/ignored")
            self.logger.info("dropped %s: %s", getattr(request, "url", "?"), error)
        else:
            stats.inc_value("kuaizhao/errors")
            if slug:
                stats.inc_value(f"kuaizhao/outlet/{slug}/errors")
            self.logger.warning("failed %s: %r", getattr(request, "url", "?"), error)
            return True
        return False
