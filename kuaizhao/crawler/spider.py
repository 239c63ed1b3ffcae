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

from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy import Request, Spider
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.response import get_base_url
from twisted.python.failure import Failure
from w3lib.url import safe_url_string

from kuaizhao.crawler.links import (
    absolute,
    feed_links,
    is_continuation,
    is_page_like,
    is_pagination,
    series,
    sitemap_locations,
)
from kuaizhao.crawler.middlewares import KIND_META
from kuaizhao.crawler.safety import OUTLET_META, OutletMap
from kuaizhao.lib.outlets import Outlet

LIST_DEPTH = 2
"""Hops from a start URL through in-scope non-article pages (pagination not counted)."""
MAX_LIST_PAGES = 50
"""Pages of one paginated list followed from its first page."""
MAX_ARTICLE_PAGES = 50
"""Highest continuation page number fetched for one article."""

PRIORITY = {"robots": 1000, "image": 30, "part": 40, "article": 20, "feed": 10, "sitemap": 10}
_IMAGE_XPATH = "//img/@src | //img/@data-src | //img/@data-original"


class OutletSpider(Spider):
    """Crawls every configured outlet until the frontier is empty."""

    name = "kuaizhao"

    def __init__(self, outlets: list[Outlet], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outlets = list(outlets)
        self.by_slug = {o.slug: o for o in self.outlets}
        self.outlet_map = OutletMap(self.outlets)

    async def start(self) -> AsyncIterator[Request]:
        for outlet in self.outlets:
            for request in self.seed_requests(outlet):
                yield request

    def seed_requests(self, outlet: Outlet) -> Iterator[Request]:
        """Requests for an outlet's start URLs (or home), feeds and sitemaps."""
        for url in outlet.start_urls or (outlet.home,):
            if outlet.is_article_url(url):
                yield self.article_request(outlet, url)
            else:
                yield self.list_request(outlet, url, depth=0, page=1)
        for url in outlet.feeds:
            yield self._request(outlet, url, "feed", self.parse_feed)
        for url in outlet.sitemaps:
            yield self._request(outlet, url, "sitemap", self.parse_sitemap)

    def _request(
        self, outlet: Outlet, url: str, kind: str, callback: Any, **cb_kwargs: Any
    ) -> Request:
        return Request(
            url,
            callback=callback,
            errback=self.on_error,
            priority=PRIORITY.get(kind, 0),
            cb_kwargs={"slug": outlet.slug, **cb_kwargs},
            meta={"download_slot": outlet.slug, OUTLET_META: outlet.slug, KIND_META: kind},
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
        """(absolute URL, anchor text) of every link on an HTML page."""
        base = get_base_url(response)
        for anchor in response.xpath("//a[@href]"):
            url = absolute(base, anchor.attrib["href"])
            if url:
                text = "".join(anchor.xpath(".//text()").getall()).strip()
                yield safe_url_string(url, response.encoding), text

    def parse_list(self, response: Response, slug: str, depth: int, page: int) -> Iterator[Request]:
        """A home, channel or list page: follow in-scope links, pagination, articles."""
        outlet = self.by_slug[slug]
        if not isinstance(response, TextResponse):
            return
        for url, text in self.anchors(response):
            if outlet.is_ignored(url) or not outlet.in_scope(url):
                continue
            if outlet.is_article_url(url):
                yield self.article_request(outlet, url)
            elif not is_page_like(url):
                continue
            elif is_pagination(url, response.url, text):
                if page < MAX_LIST_PAGES:
                    yield self.list_request(outlet, url, depth=depth, page=page + 1)
            elif depth < LIST_DEPTH:
                yield self.list_request(outlet, url, depth=depth + 1, page=1)

    def parse_article(
        self, response: Response, slug: str, article: str, part: int
    ) -> Iterator[Request]:
        """An article page: continuation pages, images, other article links."""
        outlet = self.by_slug[slug]
        if part == 1 and outlet.is_article_url(article):
            self.crawler.stats.inc_value("kuaizhao/articles")
            self.crawler.stats.inc_value(f"kuaizhao/outlet/{slug}/articles")
        if not isinstance(response, TextResponse):
            return
        for url, _text in self.anchors(response):
            if outlet.is_ignored(url):
                continue
            if is_continuation(url, article):
                if series(url)[1] <= MAX_ARTICLE_PAGES:
                    yield self.article_request(outlet, url, article=article)
            elif outlet.in_scope(url) and outlet.is_article_url(url):
                yield self.article_request(outlet, url)
        base = get_base_url(response)
        for src in response.xpath(_IMAGE_XPATH).getall():
            image = absolute(base, src)
            if image and not outlet.is_ignored(image):
                yield self.image_request(outlet, safe_url_string(image, response.encoding))

    def parse_feed(self, response: Response, slug: str) -> Iterator[Request]:
        """An RSS or Atom feed: every in-scope item link is an article."""
        outlet = self.by_slug[slug]
        for url in feed_links(response.body, response.url):
            if outlet.in_scope(url) and not outlet.is_ignored(url):
                yield self.article_request(outlet, url)

    def parse_sitemap(self, response: Response, slug: str) -> Iterator[Request]:
        """A sitemap index (follow its sitemaps) or urlset (every in-scope URL is an article)."""
        outlet = self.by_slug[slug]
        body = response.body
        if gzip_magic_number(response):
            limit = self.crawler.settings.getint("DOWNLOAD_MAXSIZE")
            try:
                body = gunzip(body, max_size=limit)
            except (OSError, EOFError, ValueError):
                self.logger.warning("unreadable gzip sitemap %s", response.url)
                return
        kind, urls = sitemap_locations(body, response.url)
        host = response.url.split("/", 3)[:3]
        for url in urls:
            if outlet.is_ignored(url):
                continue
            if kind == "sitemapindex":
                if outlet.in_scope(url) or url.split("/", 3)[:3] == host:
                    yield self._request(outlet, url, "sitemap", self.parse_sitemap)
            elif kind == "urlset" and outlet.in_scope(url):
                yield self.article_request(outlet, url)

    def parse_image(self, response: Response, slug: str) -> None:
        """Images are only archived (by the recorder); nothing to follow."""

    def on_error(self, failure: Failure) -> None:
        """Count failed requests; refusals and robots.txt exclusions are not errors."""
        stats = self.crawler.stats
        error = failure.value
        if isinstance(error, HttpError):
            stats.inc_value("kuaizhao/http_errors")
        elif isinstance(error, StopDownload):
            return
        elif isinstance(error, IgnoreRequest):
            stats.inc_value("kuaizhao/ignored")
        else:
            stats.inc_value("kuaizhao/errors")
            request = getattr(failure, "request", None)
            self.logger.warning("failed %s: %r", getattr(request, "url", "?"), error)
