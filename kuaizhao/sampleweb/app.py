"""Routing: a request path to a :class:`Response`, with an LRU cache of rendered pages.

Independent of the network layer, so it can be exercised directly.
"""

from __future__ import annotations

import bisect
import gzip
import hashlib
import json
import re
import time
from collections import Counter, OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any

from kuaizhao.sampleweb import feeds, hostile, templates
from kuaizhao.sampleweb.corpus import Corpus
from kuaizhao.sampleweb.faults import Fault, make_fault
from kuaizhao.sampleweb.images import png_for
from kuaizhao.sampleweb.sites import SITE_BY_SLUG, SITES, Site
from kuaizhao.sampleweb.text import CATEGORIES

STAT_KINDS = (
    "article", "list", "feed", "sitemap", "robots", "image", "disallowed", "control",
    "not_found", "static", "bad_request",
)  # fmt: skip
CACHE_SIZE = 4096
STARTED = int(time.time())
CSS = b"body{font:14px/1.8 sans-serif;margin:0 auto;max-width:1000px}.content p{text-indent:2em}"


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str
    kind: str
    last_modified: int | None = None
    etag: str | None = None
    gzip_ok: bool = False
    extra: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    truncate: int | None = None
    drip: float = 0.0
    drip_bytes: int = 64
    malformed: str | None = None
    _gz: bytes | None = field(default=None, repr=False)

    def gzipped(self) -> bytes:
        if self._gz is None:
            self._gz = gzip.compress(self.body, compresslevel=5, mtime=0)
        return self._gz


def _etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=10).hexdigest() + '"'


def _ok(body: bytes, ctype: str, kind: str, modified: int, compress: bool = True) -> Response:
    return Response(200, body, ctype, kind, modified, _etag(body), compress)


def error(status: int, message: str, kind: str = "not_found") -> Response:
    body = json.dumps({"error": message, "status": status}, ensure_ascii=False).encode("utf-8")
    return Response(status, body, "application/json; charset=utf-8", kind)


def _json_object(body: bytes) -> dict[str, Any] | Response:
    """A control request's JSON object body (empty body: {}), or the 400 that says why not."""
    try:
        data = json.loads(body.decode("utf-8")) if body.strip() else {}
    except (UnicodeDecodeError, ValueError) as exc:
        return error(400, f"bad JSON: {exc}", "control")
    if not isinstance(data, dict):
        return error(400, "JSON body must be an object", "control")
    return data


def _json(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return Response(status, body, "application/json; charset=utf-8", "control")


def _padded(html: str, key: str, size: int) -> str:
    """``html`` grown to between ``size`` and ``2 * size`` bytes (per ``key``) with the kind
    of weight real news pages carry: inline script data (3/4) and partner links (1/4)."""
    target = size + int(hashlib.blake2b(key.encode(), digest_size=4).hexdigest(), 16) % size
    missing = target - len(html.encode("utf-8"))
    if missing <= 0:
        return html
    links: list[str] = []
    used = 0
    while used < missing // 4:
        links.append(f'<li><a href="http://partner.example.com/site/{len(links)}.html">'
                     f"合作网站{len(links)}</a></li>")  # fmt: skip
        used += len(links[-1].encode("utf-8"))
    script_len = max(0, missing - used - 120)
    script = "var pageData = '" + ("0123456789abcdef" * (script_len // 16 + 1))[:script_len] + "';"
    pad = f'<script>{script}</script><div class="partners"><ul>{"".join(links)}</ul></div>'
    at = html.rfind("</body>")
    return html[:at] + pad + html[at:] if at >= 0 else html + pad


def _list_re(site: Site) -> re.Pattern[str]:
    pattern = re.escape(site.list_fmt).replace(r"\{ch\}", r"(?P<ch>[a-z0-9]+)")
    return re.compile(pattern.replace(r"\{suffix\}", r"(?:_(?P<page>\d+))?"))


class App:
    def __init__(self, corpus: Corpus, page_bytes: int = 0) -> None:
        self.corpus = corpus
        self.page_bytes = page_bytes
        self.cache: OrderedDict[str, Response] = OrderedDict()
        self.stats: Counter[str] = Counter({k: 0 for k in STAT_KINDS})
        self.faults: dict[str, Fault] = {}
        self.hostile: set[str] = set()  # ids published with "hostile": true
        self.changed_at = 0
        self.list_res = [_list_re(s) for s in SITES]
        self.disallowed = tuple(feeds.disallowed_prefixes()[1:])
        corpus.listeners.append(self._invalidate)

    def _invalidate(self) -> None:
        self.cache.clear()
        self.changed_at = int(time.time())

    # -- entry point ------------------------------------------------------------------
    def handle(self, method: str, target: str, body: bytes = b"") -> Response:
        path = target.split("?", 1)[0].split("#", 1)[0]
        if path.startswith("/_control/"):
            self.stats["control"] += 1
            return self.control(method, path, body)
        if method not in ("GET", "HEAD"):
            resp = error(405, f"method {method} not allowed", "bad_request")
            resp.extra = (("Allow", "GET, HEAD"),)
            self.stats["bad_request"] += 1
            return resp
        cached = self.cache.get(path)
        if cached is not None:
            self.cache.move_to_end(path)
            self.stats[cached.kind] += 1
            return cached
        resp = self.route(path)
        self.stats[resp.kind] += 1
        if resp.status == 200 and resp.kind not in ("disallowed", "control"):
            self.cache[path] = resp
            if len(self.cache) > CACHE_SIZE:
                self.cache.popitem(last=False)
        return resp

    def route(self, path: str) -> Response:
        if path == "/robots.txt":
            text = feeds.robots(self.corpus).encode("utf-8")
            return _ok(text, "text/plain; charset=utf-8", "robots", STARTED, False)
        if path == "/":
            return self.root()
        slug, _, rest = path[1:].partition("/")
        site = SITE_BY_SLUG.get(slug)
        if site is None:
            return error(404, "not found")
        if path.startswith(self.disallowed):
            page = templates.simple_page(site, "打印/搜索", f"{site.name}：此页面不供抓取。")
            return self._html(site, page, "disallowed", STARTED)
        if path == f"/{slug}":
            resp = Response(301, b"", "text/html", "list", extra=(("Location", path + "/"),))
            return resp
        try:
            return self.site_route(site, rest) or error(404, "not found")
        except (ValueError, IndexError):
            return error(404, "not found")

    def site_route(self, site: Site, rest: str) -> Response | None:
        si = SITES.index(site)
        if rest in ("", site.home_index):
            return self.home(site)
        if rest.endswith(".png"):
            if site.compiled_image.fullmatch(rest) or re.fullmatch(r"ad/banner_\d\.png", rest):
                return _ok(png_for(rest), "image/png", "image", STARTED, False)
            return None
        if rest == "css/main.css":
            return _ok(CSS, "text/css", "static", STARTED)
        if rest.startswith("rss/") and rest.endswith(".xml"):
            ch = rest[4:-4]
            if ch not in site.channels:
                return None
            text = feeds.rss(self.corpus, site, site.channels.index(ch))
            return self._xml(text, "application/rss+xml", "feed")
        if rest.startswith("sitemap"):
            return self.sitemap(site, rest)
        m = site.compiled.fullmatch(rest)
        if m:
            return self.article(
                site, si, int(m["num"]), int(m["page"] or 1), "/" + site.slug + "/" + rest
            )
        m = self.list_res[si].fullmatch(rest)
        if m and m["ch"] in site.channels:
            if m["page"] == "1":
                return None
            return self.channel(site, site.channels.index(m["ch"]), int(m["page"] or 1))
        return None

    # -- pages --------------------------------------------------------------------------
    def _html(self, site: Site, html: str, kind: str, modified: int) -> Response:
        body = html.encode(site.encoding, errors="xmlcharrefreplace")
        ctype = f"text/html; charset={site.encoding}" if site.header_charset else "text/html"
        return _ok(body, ctype, kind, max(modified, self.changed_at))

    def _xml(self, text: str, ctype: str, kind: str) -> Response:
        return _ok(text.encode("utf-8"), f"{ctype}; charset=utf-8", kind, self._latest())

    def _latest(self) -> int:
        return max(self.corpus.articles[-1].ts, self.changed_at) if self.corpus.articles else 0

    def root(self) -> Response:
        rows = "".join(
            f'<li><a href="/{s.slug}/">{s.name}</a> ({len(self.corpus.by_site[i])})</li>'
            for i, s in enumerate(SITES)
        )
        html = (
            '<!DOCTYPE html><html><head><meta charset="utf-8"><title>快照样例网站</title>'
            f"</head><body><ul>{rows}</ul></body></html>"
        )
        return _ok(html.encode("utf-8"), "text/html; charset=utf-8", "list", self._latest())

    def home(self, site: Site) -> Response:
        si = SITES.index(site)
        latest = templates.links_for(self.corpus, site, self.corpus.by_site[si][-12:][::-1])
        chans = [
            (c, templates.links_for(self.corpus, site, self.corpus.by_channel[si][c][-3:][::-1]))
            for c in range(len(CATEGORIES))
        ]
        html = templates.home_page(self.corpus, site, latest, chans)
        return self._html(site, html, "list", self._latest())

    def channel(self, site: Site, cat: int, page: int) -> Response | None:
        arts = self.corpus.by_channel[SITES.index(site)][cat]
        size = templates.PAGE_SIZE[site.style]
        pages = max(1, -(-len(arts) // size))
        if page > pages:
            return None
        end = len(arts) - (page - 1) * size
        chunk = arts[max(0, end - size) : end][::-1]
        hrefs = [f"/{site.slug}/{site.list_path(cat, i + 1)}" for i in range(pages)]
        feed = f"/{site.slug}/rss/{site.channels[cat]}.xml"
        links = templates.links_for(self.corpus, site, chunk)
        html = templates.list_page(site, site.labels[cat], links, hrefs, page, feed)
        return self._html(site, html, "list", self._latest())

    def article(self, site: Site, si: int, num: int, page: int, path: str) -> Response | None:
        art = self.corpus.by_num[si].get(num)
        if art is None or art.path(page) != path:
            return None
        view = self.corpus.view(art)
        if page > len(view.pages):
            return None
        chan = self.corpus.by_channel[si][art.cat]
        at = bisect.bisect_left(chan, (art.ts, art.num), key=lambda a: (a.ts, a.num))
        near = chan[max(0, at - 5) : at][::-1] + chan[at + 1 : at + 3]
        related = templates.links_for(self.corpus, site, near)
        hot = templates.links_for(self.corpus, site, self.corpus.by_site[si][-6:][::-1])
        html = templates.article_page(self.corpus, view, page, related, hot)
        if art.aid in self.hostile:
            html = hostile.inject(html)
        if self.page_bytes:
            html = _padded(html, art.aid, self.page_bytes)
        return self._html(site, html, "article", max(art.ts, art.modified))

    def sitemap(self, site: Site, rest: str) -> Response | None:
        if rest == "sitemap.xml":
            text = feeds.sitemap_index(self.corpus, site)
        elif rest == "sitemap_news.xml":
            text = feeds.news_sitemap(self.corpus, site)
        else:
            m = re.fullmatch(r"sitemap_(\d{1,6})\.xml", rest)
            found = feeds.sitemap_part(self.corpus, site, int(m[1])) if m else None
            if found is None:
                return None
            text = found
        return self._xml(text, "application/xml", "sitemap")

    # -- control API ----------------------------------------------------------------------
    def set_fault(self, method: str, body: bytes) -> Response:
        """``POST /_control/fault``: {"path", "kind" and/or fields}, or {"path", "clear": true}."""
        if method != "POST":
            return error(405, "use POST", "control")
        data = _json_object(body)
        if not isinstance(data, dict):
            return data
        if not isinstance(data.get("path"), str):
            return error(400, "a JSON object with a 'path' string is required", "control")
        path = data["path"]
        if data.get("clear"):
            self.faults.pop(path, None)
            return _json({"path": path, "fault": None})
        try:
            fault = make_fault(data)
        except (TypeError, ValueError) as exc:
            return error(400, str(exc), "control")
        self.faults[path] = fault
        return _json({"path": path, "fault": asdict(fault)})

    def control(self, method: str, path: str, body: bytes) -> Response:
        name = path[len("/_control/") :].rstrip("/")
        if name in ("manifest", "stats"):
            if method not in ("GET", "HEAD"):
                return error(405, "use GET", "control")
            if name == "stats":
                return _json(dict(self.stats))
            return _json(self.corpus.manifest())
        if name == "fault":
            return self.set_fault(method, body)
        if name not in ("publish", "edit"):
            return error(404, f"no control endpoint {name!r}", "control")
        if method != "POST":
            return error(405, "use POST", "control")
        data = _json_object(body)
        if not isinstance(data, dict):
            return data
        strings = ("outlet", "category", "title", "text", "story", "id")
        bad = [k for k in strings if k in data and not isinstance(data[k], str)]
        if bad:
            return error(400, f"{', '.join(bad)} must be strings", "control")
        try:
            if name == "publish":
                art = self.corpus.publish(
                    outlet=data.get("outlet"), category=data.get("category"),
                    title=data.get("title"), text=data.get("text"), story=data.get("story"),
                )  # fmt: skip
            else:
                if "id" not in data:
                    return error(400, "'id' is required", "control")
                art = self.corpus.edit(data["id"], title=data.get("title"), text=data.get("text"))
        except LookupError as exc:
            return error(404, str(exc.args[0]), "control")
        except ValueError as exc:
            return error(400, str(exc), "control")
        if name == "publish" and data.get("hostile") is True:
            self.hostile.add(art.aid)
            self._invalidate()
        return _json(self.corpus.manifest_entry(art))
