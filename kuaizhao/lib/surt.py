"""URL canonicalisation and SURT keys.

A SURT (Sort-friendly URI Reordering Transform) puts the host's labels in reverse so that
every page of a site sorts together; archives key captures by it. Two URLs that name the
same page (different case in the host, default port, tracking parameters, a fragment,
a leading ``www.``, a mobile ``m.`` host) get the same key.

>>> surt("http://www.Example.com:80/a/b.html?utm_source=x&b=2&a=1#top")
'com,example)/a/b.html?a=1&b=2'
>>> surt("https://m.news.example.cn/2023/0509/c1.html")
'cn,example,news)/2023/0509/c1.html'
>>> canonicalize("Example.com/path")
'http://example.com/path'
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset(
    {"spm", "from", "share_token", "share_from", "fbclid", "gclid", "wfr", "isappinstalled"}
)
_DROP_HOST_PREFIXES = ("www.", "m.", "wap.", "3g.")
_SAFE_PATH = "/:@!$&'()*+,;=-._~%"


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith("utm_") or lowered in TRACKING_PARAMS


class BadUrl(ValueError):
    """Not a URL kuaizhao can key (e.g. a broken IPv6 host or port)."""


def join_url(base: str, href: str) -> str | None:
    """``href`` resolved against ``base``; None when it names no URL. A page may hold any
    link, and ``urljoin`` raises on some (``http://[x``: an unclosed IPv6 host).

    >>> join_url("http://a.cn/n/1.html", "2.html"), join_url("http://a.cn/", "http://[x")
    ('http://a.cn/n/2.html', None)
    """
    try:
        return urljoin(base, href)
    except ValueError:
        return None


def canonicalize(url: str) -> str:
    """A normal form of ``url``: scheme added, host lowercased, default port, fragment and
    tracking parameters removed, query sorted, path percent-encoding normalised.

    >>> canonicalize("http://[::1")
    Traceback (most recent call last):
    kuaizhao.lib.surt.BadUrl: not a valid URL: 'http://[::1'
    """
    url = url.strip()
    if "://" not in url:
        url = "http://" + url.lstrip("/")
    try:
        parts = urlsplit(url)
        port = parts.port if parts.port not in (None, 80, 443) else None
    except ValueError:
        raise BadUrl(f"not a valid URL: {url!r}") from None
    if not parts.hostname:
        raise BadUrl(f"not a valid URL: {url!r}")
    scheme = parts.scheme.lower()
    host = parts.hostname.lower().rstrip(".")
    netloc = f"{host}:{port}" if port else host
    path = quote(unquote(parts.path), safe=_SAFE_PATH) or "/"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True))
    kept = [(k, v) for k, v in query if not _is_tracking(k)]
    return urlunsplit((scheme, netloc, path, urlencode(kept), ""))


def surt(url: str) -> str:
    """The SURT key of ``url``: scheme-less, ``www.``/mobile prefixes dropped, host reversed."""
    parts = urlsplit(canonicalize(url))
    host = parts.hostname or ""
    for prefix in _DROP_HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
            break
    labels = ",".join(reversed(host.split(".")))
    if parts.port:
        labels += f":{parts.port}"
    rest = parts.path + (f"?{parts.query}" if parts.query else "")
    return f"{labels}){rest}"
