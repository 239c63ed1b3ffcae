"""Conditional GET and a page cache for snapshot pages.

What a snapshot page shows of the article is immutable: one version of it, from one capture
(or that version completed by a later page's capture, which is a new capture too).
What surrounds it (other outlets carrying the story, related coverage, the latest in its
category, the list of captures) changes only when the catalogue does: ingest records captures
and article versions, or takedown rules hide or show articles. So a page is named by the
article and version it shows plus a stamp of the catalogue; that name is its ETag and its key
in the page cache, and nothing ever has to be invalidated by hand.

The stamp also names the takedown rules in force (they are never edited, only created and
revoked, and each has a fixed embargo window), so a page cached under a stamp passed the
takedown guard under exactly the rules of any later request with the same stamp: a cache hit
costs one small query and no guard.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.core.cache import cache
from django.db import connection
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import http_date

from kuaizhao.archive.models import ArticleVersion, Capture, WarcFile

CACHE_SECONDS = 600
KEPT_HEADERS = ("Content-Type", "Link", "Memento-Datetime")
T = TypeVar("T")


def catalogue_stamp() -> str:
    """One query: the newest capture and article version, the articles hidden from lists, and
    the takedown rules in force now."""
    from kuaizhao.takedown.models import Hidden, Rule

    rule, hidden = Rule._meta.db_table, Hidden._meta.db_table
    sql = (
        f"SELECT (SELECT MAX(id) FROM {Capture._meta.db_table}),"
        f" (SELECT MAX(id) FROM {ArticleVersion._meta.db_table}),"
        f" (SELECT COUNT(*) FROM {hidden}), (SELECT SUM(article_id) FROM {hidden}),"
        f" COUNT(*), SUM(id), MAX(id) FROM {rule} WHERE revoked_at IS NULL"
        " AND (starts_at IS NULL OR starts_at <= %s) AND (ends_at IS NULL OR ends_at > %s)"
    )
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, now])
        row = cursor.fetchone()
    return "/".join(map(str, row))


def last_ingest() -> int:
    found = WarcFile.objects.aggregate(t=Max("ingested_at"))["t"]
    return int(found.timestamp()) if found else 0


def etag_for(*parts: object) -> str:
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=12)
    return f'"{digest.hexdigest()}"'


@dataclass(frozen=True)
class Kept:
    body: bytes
    headers: list[tuple[str, str]]
    etag: str
    modified: int


class Page(Generic[T]):
    """How to get the object a page shows (raising 404/451 as the guard says), its
    Last-Modified time, and the page itself."""

    def __init__(
        self,
        load: Callable[[], T],
        modified: Callable[[T], int],
        render: Callable[[T], HttpResponse],
    ) -> None:
        self.load, self.modified, self.render = load, modified, render


def _shared(request: HttpRequest) -> bool:
    """Whether the page is the same for everyone: nobody is signed in."""
    user = getattr(request, "user", None)
    return not (user is not None and user.is_authenticated)


def cached_page(request: HttpRequest, name: tuple[object, ...], page: Page[T]) -> HttpResponseBase:
    """The page ``name``: 304 when the client has it, from the cache when this process has it,
    else loaded (through the guard) and rendered, and kept for the next reader."""
    stamp = catalogue_stamp()
    shared = _shared(request)
    # Pages carry absolute addresses (canonical link, og:url, Memento links) and links that
    # keep the query string (pagers).
    name = (*name, request.scheme, request.get_host(), request.get_full_path())
    key = "kuaizhao:page:" + etag_for(*name, stamp)[1:-1]
    kept: Kept | None = cache.get(key) if shared else None
    if kept is None:
        found = page.load()
        user = "" if shared else getattr(request.user, "pk", "")
        etag = etag_for(*name, stamp, user)
        modified = max(page.modified(found), last_ingest())
        # A signed-in reader's page also shows what they follow, which the stamp does not
        # cover: it is rendered every time, never answered with a 304.
        response = (
            get_conditional_response(request, etag=etag, last_modified=modified) if shared else None
        )
        if response is None:
            response = page.render(found)
            if shared and response.status_code == 200 and not _uses_csrf(request):
                headers = [(h, response[h]) for h in KEPT_HEADERS if response.has_header(h)]
                cache.set(key, Kept(response.content, headers, etag, modified), CACHE_SECONDS)
    else:
        etag, modified = kept.etag, kept.modified
        response = get_conditional_response(request, etag=etag, last_modified=modified)
        if response is None:
            response = HttpResponse(kept.body)
            for header, value in kept.headers:
                response[header] = value
    _validators(response, etag, modified, shared)
    return response


def _uses_csrf(request: HttpRequest) -> bool:
    """A page with a CSRF token in a form is personal: it is never kept."""
    return bool(request.META.get("CSRF_COOKIE_NEEDS_UPDATE"))


def _validators(response: HttpResponseBase, etag: str, modified: int, shared: bool) -> None:
    if not shared:
        response["Cache-Control"] = "private, no-store"
        return
    response["ETag"] = etag
    response["Last-Modified"] = http_date(modified)
    # Stored, but checked with the server every time: a takedown must take effect at once.
    response["Cache-Control"] = "public, no-cache"
