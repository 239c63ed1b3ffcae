"""URL and document helpers for the spider: pagination, continuation pages, feeds, sitemaps."""

from __future__ import annotations

import re
from collections import OrderedDict
from urllib.parse import parse_qsl, urldefrag, urlencode, urlsplit, urlunsplit

import lxml.etree
from scrapy.utils.sitemap import Sitemap

from kuaizhao.lib.surt import join_url

NEXT_TEXTS = frozenset(
    {
        "下一页",
        "下页",
        "后页",
        "下一頁",
        "下一页>",
        "下一页>>",
        "下一页»",
        "next",
        "next»",
        "next>",
        "»",
        ">",
    }
)
"""Anchor texts (lower-cased, spaces removed) that mean "the next page"."""

PAGE_PARAMS = frozenset(
    {"page", "p", "pn", "pg", "pageno", "page_no", "pagenum", "pageindex", "curpage"}
)
"""Query parameters that number the pages of one series."""

SKIPPED_EXTENSIONS = frozenset(
    {
        "7z",
        "bz2",
        "gz",
        "rar",
        "tar",
        "tgz",
        "xz",
        "zip",
        "bmp",
        "gif",
        "jpg",
        "jpeg",
        "png",
        "webp",
        "svg",
        "ico",
        "tif",
        "tiff",
        "avif",
        "mp3",
        "mp4",
        "m4a",
        "m4v",
        "wav",
        "ogg",
        "webm",
        "avi",
        "mov",
        "flv",
        "wmv",
        "mkv",
        "swf",
        "pdf",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "ppt",
        "pptx",
        "odt",
        "apk",
        "exe",
        "dmg",
        "iso",
        "msi",
        "bin",
        "css",
        "js",
        "json",
        "txt",
        "csv",
    }
)
"""Extensions of links that are never HTML pages (not followed as pages)."""

_PAGED_SEGMENT = re.compile(r"^(?P<stem>.+?)_(?P<n>\d{1,3})(?P<ext>\.[A-Za-z]{2,5})?$")
_INDEX_NAMES = ("index", "default")
_XML_PARSER = lxml.etree.XMLParser(
    resolve_entities=False, no_network=True, recover=True, huge_tree=False, remove_comments=True
)


_SAFE_URL = re.compile(r"[A-Za-z0-9\-._~:/?\[\]@!$&'()*+,;=%]*")


def is_safe_ascii(url: str) -> bool:
    """True if ``url`` has only characters a URL may carry as they are (then quoting it
    would change nothing).

    >>> is_safe_ascii("http://a.cn/n1/2024/0509/c1-2.html?page=2")
    True
    >>> is_safe_ascii("http://a.cn/新闻 1.html")
    False
    """
    return _SAFE_URL.fullmatch(url) is not None


class RecentSet:
    """The last ``capacity`` strings added, in bounded memory (oldest forgotten first).

    >>> recent = RecentSet(2)
    >>> [recent.add(u) for u in ("a", "b", "a", "c", "b")]
    [True, True, False, True, True]
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, None] = OrderedDict()

    def add(self, item: str) -> bool:
        """Remember ``item``; False if it was already remembered."""
        if item in self._items:
            self._items.move_to_end(item)
            return False
        self._items[item] = None
        if len(self._items) > self.capacity:
            self._items.popitem(last=False)
        return True


def clean_url(url: str) -> str | None:
    """``url`` without its fragment, if it is http(s); else None."""
    url = url.strip()
    if "#" not in url and url.startswith(("http://", "https://")):
        return url  # most links, as parsing would leave them: it costs 2 µs a link
    url = urldefrag(url)[0]
    scheme = urlsplit(url).scheme.lower()
    return url if scheme in ("http", "https") else None


def absolute(base: str, href: str) -> str | None:
    """``href`` resolved against ``base``, cleaned; None for javascript:, data:, mailto: etc."""
    href = href.strip()
    if not href or href.startswith(("javascript:", "data:", "mailto:", "tel:", "#")):
        return None
    url = join_url(base, href)
    return clean_url(url) if url is not None else None


_ABSOLUTE_HREF = re.compile(r"\s*[Hh][Tt][Tt][Pp][Ss]?://([^/?#\\@\[\]\s]*)(?=[/?#]|$)")


def href_host(href: str) -> str | None:
    """The lower-cased host of an absolute http(s) ``href``, read off its text without parsing;
    None for a relative link or one that is not that plain (user info, IPv6, backslashes).

    >>> href_host("http://Partner.Example.com:8080/site/1.html")
    'partner.example.com'
    >>> href_host("/n1/2024/0509/c1-2.html") is None, href_host("http://u@a.cn/") is None
    (True, True)
    """
    match = _ABSOLUTE_HREF.match(href)
    if match is None:
        return None
    return match.group(1).rsplit(":", 1)[0].lower()


class HostScope:
    """Hosts an outlet's scope can hold: a cheap test that lets a page's many off-site
    links (partner lists, ads) be dropped before they are resolved and classified."""

    def __init__(self, scope: tuple[str, ...]) -> None:
        self.hosts: set[str] = set()
        self.domains: list[str] = []
        for entry in scope:
            if "://" in entry:
                self.hosts.add((urlsplit(entry).hostname or "").lower())
            else:
                self.domains.append(entry.lower())

    def may_hold(self, host: str) -> bool:
        """False only if no URL on ``host`` can be in scope.

        >>> scope = HostScope(("http://127.0.0.1:8001/a/", "example.cn"))
        >>> [scope.may_hold(h) for h in ("127.0.0.1", "www.example.cn", "partner.com")]
        [True, True, False]
        """
        if host in self.hosts:
            return True
        return any(host == d or host.endswith("." + d) for d in self.domains)


def extension(url: str) -> str:
    last = urlsplit(url).path.rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[-1].lower() if "." in last else ""


def is_page_like(url: str) -> bool:
    """False for links to media, documents and archives."""
    return extension(url) not in SKIPPED_EXTENSIONS


def series(url: str) -> tuple[str, int]:
    """(key, page number): pages of one paginated list or article share a key.

    ``/a/c1-2.html``, ``/a/c1-2_3.html`` and ``/a/c1-2.html?page=3`` share a key;
    a directory (``/guonei/``) is the same series as its ``index_N`` pages.
    """
    parts = urlsplit(url)
    directory, _, last = parts.path.rpartition("/")
    page = 1
    match = _PAGED_SEGMENT.match(last)
    if match:
        last, page = match["stem"], int(match["n"])
    else:
        last = last.rsplit(".", 1)[0] if "." in last else last
    if last.lower() in _INDEX_NAMES:
        last = ""
    query = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name.lower() in PAGE_PARAMS and value.isdigit():
            page = int(value)
        else:
            query.append((name, value))
    key = urlunsplit(
        (parts.scheme, parts.netloc.lower(), f"{directory}/{last}", urlencode(query), "")
    )
    return key, page


def same_series(a: str, b: str) -> bool:
    return series(a)[0] == series(b)[0]


class Continuations:
    """:func:`is_continuation` for the many links of one article page (its key computed once).

    >>> later = Continuations("http://a.cn/n1/2024/0509/c1-2.html")
    >>> [later("http://a.cn/n1/2024/0509/c1-2_2.html"), later("http://a.cn/n1/c1-2_2.html")]
    [True, False]
    """

    def __init__(self, article: str) -> None:
        self.article = article
        self.key = series(article)[0]
        parts = urlsplit(article)
        # Every later page shares the article's directory (case aside): a cheap first test.
        self.directory = f"{parts.netloc}{parts.path.rpartition('/')[0]}/".lower()

    def __call__(self, link: str) -> bool:
        if link == self.article or self.directory not in link.lower():
            return False
        key, page = series(link)
        return page > 1 and key == self.key


def is_continuation(link: str, article: str) -> bool:
    """True if ``link`` is a later page (``_2``, ``?page=2``) of the article at ``article``."""
    key, page = series(link)
    return page > 1 and key == series(article)[0] and link != article


def is_next_text(text: str) -> bool:
    return re.sub(r"\s+", "", text).lower() in NEXT_TEXTS


def is_pagination(link: str, page_url: str, text: str) -> bool:
    """True if ``link`` (anchor ``text``) is another page of the list at ``page_url``."""
    if link == page_url:
        return False
    return is_next_text(text) or same_series(link, page_url)


def _xml_root(body: bytes) -> lxml.etree._Element | None:
    try:
        return lxml.etree.fromstring(body, parser=_XML_PARSER)
    except lxml.etree.XMLSyntaxError:
        return None


def feed_links(body: bytes, base_url: str) -> list[str]:
    """Item links of an RSS 2.0 / RSS 1.0 or Atom feed, absolute, in document order."""
    root = _xml_root(body)
    if root is None:
        return []
    found: list[str] = []
    rss = root.xpath("//*[local-name()='item']/*[local-name()='link']/text()")
    atom = root.xpath(
        "//*[local-name()='entry']/*[local-name()='link'][not(@rel) or @rel='alternate']/@href"
    )
    for raw in [*rss, *atom]:
        url = absolute(base_url, str(raw))
        if url and url not in found:
            found.append(url)
    return found


def sitemap_locations(body: bytes, base_url: str) -> tuple[str, list[str]]:
    """(``"sitemapindex"`` or ``"urlset"``, absolute ``<loc>`` URLs) of a sitemap document."""
    try:
        sitemap = Sitemap(body)
    except (lxml.etree.XMLSyntaxError, StopIteration):
        return "", []
    urls = []
    for entry in sitemap:
        url = absolute(base_url, str(entry.get("loc", "")))
        if url:
            urls.append(url)
    return str(sitemap.type).lower(), urls
