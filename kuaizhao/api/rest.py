"""The JSON API at ``/api/`` (django-ninja): search, articles with their versions, captures,
related coverage and story, URL lookup, categories and outlets. The OpenAPI description is
at ``/api/openapi.json``, the interactive docs at ``/api/docs`` (served from our own static
files, so they work under the site's Content-Security-Policy).

Everything the public may not see is filtered here exactly as on the HTML pages: lists go
through ``kuaizhao.takedown.visibility.public``, single items through ``guard_article`` /
``guard`` (404 for an ``exclude`` rule, 451 with the request number for a ``block``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

import nh3
from django.db.models import Count, Max, Min, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.cache import get_conditional_response
from ninja import NinjaAPI, Schema
from ninja.errors import ValidationError
from ninja.params import P, PathEx, QueryEx
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder
from pydantic import BeforeValidator, ConfigDict, WithJsonSchema

from kuaizhao.archive import mementos, searching
from kuaizhao.archive.models import Article, ArticleVersion, Capture, Outlet
from kuaizhao.extract.render import ALLOWED_ATTRIBUTES, ALLOWED_TAGS
from kuaizhao.lib.outlets import CATEGORIES
from kuaizhao.lib.surt import BadUrl, canonicalize, surt
from kuaizhao.search.base import Hit
from kuaizhao.search.query import MAX_QUERY_CHARS, MAX_TERM_CHARS, QueryError, parse
from kuaizhao.takedown import visibility
from kuaizhao.takedown.middleware import blocked_response

logger = logging.getLogger(__name__)

MAX_PAGE = 1000
SEARCH_PER_PAGE = 20
"""The search backends' page size (kuaizhao/search/base.py)."""
MAX_ID = 2**63 - 1
MAX_URL_CHARS = 2000
LATEST_PAGE_SIZE = 30
LOOKUP_LIMIT = 200
ARTICLE_CAPTURES_LIMIT = 200
OUTLET_LATEST = 10
ARTICLE_MAX_AGE = 300
"""An article changes when a new version or a related article is archived: revalidate
(cheap with the ETag) after five minutes."""
VERSION_MAX_AGE = 86400
"""A version never changes; a day (not a year) so a takedown also leaves shared caches soon."""

QUERY_HELP = (
    'Words (all must occur), `"a phrase"`, `A OR B`, `-excluded`, and the filters '
    "`category:` `source:` `after:` `before:` (see docs/api.md)."
)
URL_HELP = (
    "Any spelling of the page's address: with or without scheme, tracking parameters, "
    "`www.` or a mobile host."
)
CATEGORY_BY_SLUG = dict(CATEGORIES)
SLUG_BY_CATEGORY = {name: slug for slug, name in CATEGORIES}
CATEGORY_NAMES = [*CATEGORY_BY_SLUG, *SLUG_BY_CATEGORY]
"""What a category parameter takes: a slug (``guonei``) or a name (``国内``)."""
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: object) -> object:
    """Only ``YYYY-MM-DD``: pydantic would also take ``0`` as a Unix time."""
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("应为 YYYY-MM-DD 格式的日期")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
# Described as enums; checked by the views, which answer an unknown one in words.
Category = Annotated[str, WithJsonSchema({"type": "string", "enum": CATEGORY_NAMES})]
OptionalCategory = Annotated[str, WithJsonSchema({"type": "string", "enum": ["", *CATEGORY_NAMES]})]


class Utf8JSONRenderer(JSONRenderer):
    """Chinese as characters, not ``\\uXXXX`` escapes: a third of the bytes, and readable."""

    json_dumps_params: Mapping[str, Any] = {"ensure_ascii": False}


api = NinjaAPI(
    title="kuaizhao 快照",
    version="1",
    description=(
        "A public archive of Chinese news: search, snapshots with their versions and "
        "captures, URL lookup, categories and outlets. Read-only; every response is JSON, "
        "errors too (`detail`, and `request_number` for 451)."
    ),
    urls_namespace="api",
    renderer=Utf8JSONRenderer(),
)


class Out(Schema):
    """A response shape; the docstring under a field is its description in the OpenAPI."""

    model_config = ConfigDict(use_attribute_docstrings=True)


# --- errors ---------------------------------------------------------------------------------


class Error(Out):
    detail: str


class ValidationErrors(Out):
    detail: list[dict[str, Any]]


class BlockedError(Out):
    error: str
    detail: str
    request_number: str


class BadRequest(Exception):
    """The request cannot be answered as asked; the message says why (a 400)."""


def _json_error(request: HttpRequest, status: int, detail: str) -> HttpResponse:
    return api.create_response(request, {"detail": detail}, status=status)


@api.exception_handler(BadRequest)
def _bad_request(request: HttpRequest, exc: BadRequest) -> HttpResponse:
    return _json_error(request, 400, str(exc))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _json_error(request, 404, str(exc) or "未找到")


@api.exception_handler(visibility.Blocked)
def _blocked(request: HttpRequest, exc: visibility.Blocked) -> HttpResponse:
    response = blocked_response(request, exc)
    assert isinstance(response, HttpResponse)
    return response


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A bug, not the client's doing: logged with its traceback like any 500, and still
    # answered in JSON, not with the site's HTML error page.
    logger.error("API error on %s", request.get_full_path(), exc_info=exc)
    return _json_error(request, 500, "服务器出错，存档本身没有受到影响，请稍后再试")


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    # ninja's own handler, except that what the client sent is not echoed back: it may be
    # large, and it is the client's own input.
    errors = [{k: v for k, v in e.items() if k not in ("input", "ctx", "url")} for e in exc.errors]
    return api.create_response(request, {"detail": errors}, status=422)


ERRORS: dict[int, type[Out]] = {422: ValidationErrors}
NOT_FOUND: dict[int, type[Out]] = {404: Error, 422: ValidationErrors}
SINGLE: dict[int, type[Out]] = {404: Error, 451: BlockedError, 422: ValidationErrors}


# --- shapes ---------------------------------------------------------------------------------


class ArticleSummary(Out):
    id: int
    url: str
    title: str
    published_at: datetime | None
    captured_at: datetime
    source: str
    category: str
    story_id: int | None
    """The id of the story's original (the earliest capture of it): articles sharing it are
    copies of one story. Null until the article is grouped."""
    snapshot: str
    """The snapshot page (HTML)."""
    api: str


class SearchResult(ArticleSummary):
    snippet: str
    copies: int
    """Other matching articles of the same story, folded into this result."""


class SearchPage(Out):
    total: int
    exact: bool
    """False when ``total`` is an estimate (a very common word in a big archive)."""
    page: int
    pages: int
    per_page: int
    terms: list[str]
    """The words that matched, for highlighting ``snippet``."""
    results: list[SearchResult]


class CaptureOut(Out):
    url: str
    captured_at: datetime
    status: int
    mime: str
    record_type: str
    digest: str
    """The WARC payload digest (``sha1:…``)."""
    replay: str
    """The capture as it was served, at ``/web/<timestamp>/<url>``."""


class ImageOut(Out):
    src: str
    """The image's original address (never to be hot-linked)."""
    archived: str
    """The archive's own copy."""
    caption: str | None
    alt: str | None


class VersionLink(Out):
    number: int
    captured_at: datetime
    title: str
    content_hash: str
    snapshot: str
    api: str
    diff: str | None
    """The changes from the version before, or null for the first."""
    replay: str


class RelatedHit(Out):
    id: int
    title: str
    snippet: str
    published_at: datetime | None
    snapshot: str
    api: str


class Related(Out):
    phrase: str
    hits: list[RelatedHit]


class Story(Out):
    original: ArticleSummary
    """The earliest known capture of the story (the article itself when it is first)."""
    copies: list[ArticleSummary]
    """The other articles of the same story, earliest first."""
    outlets: int
    """How many outlets carry the story, this article's included."""


class Content(Out):
    title: str
    published_at: datetime | None
    source: str
    author: str
    editor: str
    repost_from: str
    """本文转自: the outlet the article says it was taken from."""
    summary: str
    body_text: str
    body_html: str
    """Sanitised; images point at the archive's copies."""
    images: list[ImageOut]
    provenance: dict[str, str]
    """Where each field was found in the page (for example ``meta:publishdate``)."""
    content_hash: str
    extractor_version: str


class ArticleHead(Out):
    id: int
    url: str
    category: str
    category_slug: str


class ArticleOut(Content, ArticleHead):  # in this order, the head's fields come first
    key_phrases: list[str]
    captured_at: datetime
    """When the capture shown was made (快照生成时间)."""
    first_captured_at: datetime
    last_captured_at: datetime
    snapshot: str
    capture: CaptureOut
    versions: list[VersionLink]
    captures: list[CaptureOut]
    """Every capture of the article's URL, newest first."""
    related: Related
    story: Story


class VersionHead(Out):
    article_id: int
    number: int
    versions: int
    """How many versions the article has."""


class VersionOut(Content, VersionHead):
    captured_at: datetime
    snapshot: str
    capture: CaptureOut


class LookupOut(Out):
    url: str
    canonical: str
    surt: str
    captured: bool
    articles: list[ArticleSummary]
    captures: list[CaptureOut]
    """Newest first."""


class CategoryOut(Out):
    slug: str
    name: str
    articles: int
    page: str
    feed: str
    latest: str


class CategoryPage(Out):
    category: CategoryOut
    total: int
    page: int
    pages: int
    per_page: int
    results: list[ArticleSummary]


class OutletOut(Out):
    slug: str
    name: str
    home: str
    articles: int
    captures: int
    first_capture: datetime | None
    last_capture: datetime | None
    api: str


class OutletDetail(OutletOut):
    categories: dict[str, int]
    """Articles per category."""
    latest: list[ArticleSummary]


# --- helpers --------------------------------------------------------------------------------


def _article_api(article_id: int) -> str:
    return reverse("api:article", kwargs={"article_id": article_id})


def _snapshot(article_id: int) -> str:
    return reverse("snapshot", args=[article_id])


def _summary(article: Article) -> dict[str, Any]:
    return {
        "id": article.pk,
        "url": article.url,
        "title": article.title,
        "published_at": article.published_at,
        "captured_at": article.capture.captured_at,
        "source": article.source,
        "category": article.category,
        "story_id": article.story,
        "snapshot": _snapshot(article.pk),
        "api": _article_api(article.pk),
    }


def _capture(capture: Capture) -> dict[str, Any]:
    return {
        "url": capture.url,
        "captured_at": capture.captured_at,
        "status": capture.status,
        "mime": capture.mime,
        "record_type": capture.record_type,
        "digest": capture.payload_digest,
        "replay": mementos.memento_path(capture),
    }


def _archived_image(src: str) -> str:
    return f"{reverse('archived-image')}?url={quote(src, safe='')}"


def _body_html(html: str) -> str:
    """Sanitised again (the stored HTML already is: one more pass costs little and keeps a
    catalogue written by an older extractor safe), images swapped for the archive's copies."""

    def attribute(tag: str, name: str, value: str) -> str | None:
        if tag == "img" and name == "src":
            return _archived_image(value)
        return value

    return nh3.clean(
        html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, attribute_filter=attribute
    )


def _content(source: Article | ArticleVersion) -> dict[str, Any]:
    images = [
        {
            "src": str(image.get("src", "")),
            "archived": _archived_image(str(image.get("src", ""))),
            "caption": image.get("caption"),
            "alt": image.get("alt"),
        }
        for image in source.images
        if isinstance(image, dict) and image.get("src")
    ]
    return {
        "title": source.title,
        "published_at": source.published_at,
        "source": source.source,
        "author": source.author,
        "editor": source.editor,
        "repost_from": source.repost_from,
        "summary": source.summary,
        "body_text": source.body_text,
        "body_html": _body_html(source.body_html),
        "images": images,
        "provenance": {str(k): str(v) for k, v in dict(source.provenance).items()},
        "content_hash": source.content_hash,
        "extractor_version": source.extractor_version,
    }


def _listing(qs: QuerySet[Article] | None = None) -> QuerySet[Article]:
    base = Article.objects.all() if qs is None else qs
    return visibility.public(base).select_related("capture")


def _page_slice(page: int, per_page: int) -> slice:
    return slice((page - 1) * per_page, page * per_page)


def _pages(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def _public_by_id(ids: Iterable[int]) -> dict[int, Article]:
    return _listing(Article.objects.filter(pk__in=list(ids))).in_bulk()


def _json_response(request: HttpRequest, payload: Out, max_age: int) -> HttpResponse:
    """``payload`` as JSON with an ETag over its bytes; a 304 when the client has them."""
    body = json.dumps(
        payload.model_dump(mode="json"), ensure_ascii=False, cls=NinjaJSONEncoder
    ).encode()
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={max_age}"
    conditional = get_conditional_response(request, etag=etag, response=response)
    return conditional if isinstance(conditional, HttpResponse) else response


def _article(article_id: int) -> Article:
    article = Article.objects.select_related("outlet", "capture").filter(pk=article_id).first()
    if article is None:
        raise Http404("没有这篇快照")
    visibility.guard_article(article)
    return article


def _versions(article: Article) -> list[ArticleVersion]:
    return list(article.versions.select_related("capture").order_by("captured_at", "id"))


def _version_links(article: Article, versions: list[ArticleVersion]) -> list[dict[str, Any]]:
    links = []
    for number, version in enumerate(versions, 1):
        diff = None
        if number > 1:
            query = urlencode({"a": number - 1, "b": number})
            diff = f"{reverse('version-diff', args=[article.pk])}?{query}"
        links.append(
            {
                "number": number,
                "captured_at": version.captured_at,
                "title": version.title,
                "content_hash": version.content_hash,
                "snapshot": reverse("version", args=[article.pk, number]),
                "api": reverse(
                    "api:article-version", kwargs={"article_id": article.pk, "number": number}
                ),
                "diff": diff,
                "replay": mementos.memento_path(version.capture),
            }
        )
    return links


def _related(article: Article) -> dict[str, Any]:
    phrase, hits = searching.related(article)
    shown = _public_by_id(hit.article_id for hit in hits)
    return {
        "phrase": phrase,
        "hits": [_related_hit(hit) for hit in hits if hit.article_id in shown],
    }


def _related_hit(hit: Hit) -> dict[str, Any]:
    return {
        "id": hit.article_id,
        "title": hit.title,
        "snippet": hit.snippet,
        "published_at": hit.published_at,
        "snapshot": _snapshot(hit.article_id),
        "api": _article_api(hit.article_id),
    }


def _story(article: Article) -> dict[str, Any]:
    found = searching.copies(article)
    shown = _public_by_id(a.pk for a in found)
    copies = [shown[a.pk] for a in found if a.pk in shown]
    original = searching.story_original(article)
    if original.pk != article.pk and original.pk not in shown:
        # The original is hidden: the earliest copy the public may see stands for it.
        original = min([article, *copies], key=lambda a: (a.first_captured_at, a.pk))
    elif original.pk in shown:
        original = shown[original.pk]
    outlets = {a.outlet_id for a in [article, *copies]}
    return {
        "original": _summary(original),
        "copies": [_summary(a) for a in copies],
        "outlets": len(outlets),
    }


# --- endpoints ------------------------------------------------------------------------------


@api.get(
    "/search",
    response={200: SearchPage, 400: Error, 422: ValidationErrors},
    summary="Search the archive",
    tags=["search"],
    operation_id="search",
)
def search(
    request: HttpRequest,
    q: QueryEx[str, P(max_length=MAX_QUERY_CHARS, description=QUERY_HELP)] = "",
    category: QueryEx[OptionalCategory, P(default="", description="A category slug or name.")] = "",
    source: QueryEx[str, P(max_length=MAX_TERM_CHARS, description="Part of the source.")] = "",
    after: QueryEx[IsoDate | None, P(description="Published on or after (YYYY-MM-DD).")] = None,
    before: QueryEx[IsoDate | None, P(description="Published on or before (YYYY-MM-DD).")] = None,
    order: Literal["relevance", "time"] = "relevance",
    page: QueryEx[int, P(ge=1, le=MAX_PAGE)] = 1,
) -> dict[str, Any]:
    try:
        query = parse(q)
    except QueryError as exc:
        raise BadRequest(str(exc)) from None
    if category:
        name = CATEGORY_BY_SLUG.get(category.lower(), category)
        if name not in SLUG_BY_CATEGORY:
            raise BadRequest(f"没有这个类别：{category}")
        query = dataclasses.replace(query, category=name)
    if source.strip():
        query = dataclasses.replace(query, source=" ".join(source.split())[:MAX_TERM_CHARS])
    if after is not None:
        query = dataclasses.replace(query, after=after)
    if before is not None:
        query = dataclasses.replace(query, before=before)
    if query.empty:
        return {
            "total": 0,
            "exact": True,
            "page": page,
            "pages": 1,
            "per_page": SEARCH_PER_PAGE,
            "terms": [],
            "results": [],
        }
    found = searching.search(query, page=page, order=order)
    articles = _public_by_id(hit.article_id for hit in found.hits)
    results = []
    for hit in found.hits:
        article = articles.get(hit.article_id)
        if article is not None:
            results.append({**_summary(article), "snippet": hit.snippet, "copies": hit.copies})
    return {
        "total": found.total,
        "exact": found.exact,
        "page": found.page,
        "pages": found.pages,
        "per_page": found.per_page,
        "terms": list(found.terms),
        "results": results,
    }


@api.get(
    "/articles/{article_id}",
    response={200: ArticleOut, 304: None, **SINGLE},
    url_name="article",
    summary="An article: every extracted field, versions, captures, related coverage, story",
    tags=["articles"],
    operation_id="article",
)
def article(request: HttpRequest, article_id: PathEx[int, P(ge=1, le=MAX_ID)]) -> HttpResponse:
    article = _article(article_id)
    versions = _versions(article)
    captures = Capture.objects.filter(surt=article.surt).order_by("-captured_at", "-id")
    data = {
        **_content(article),
        "id": article.pk,
        "url": article.url,
        "category": article.category,
        "category_slug": article.category_slug,
        "key_phrases": [str(p) for p in article.key_phrases],
        "captured_at": article.capture.captured_at,
        "first_captured_at": article.first_captured_at,
        "last_captured_at": article.last_captured_at,
        "snapshot": _snapshot(article.pk),
        "capture": _capture(article.capture),
        "versions": _version_links(article, versions),
        "captures": [_capture(c) for c in captures[:ARTICLE_CAPTURES_LIMIT]],
        "related": _related(article),
        "story": _story(article),
    }
    return _json_response(request, ArticleOut.model_validate(data), ARTICLE_MAX_AGE)


@api.get(
    "/articles/{article_id}/versions/{number}",
    response={200: VersionOut, 304: None, **SINGLE},
    url_name="article-version",
    summary="One version of an article (immutable), 1 being the first",
    tags=["articles"],
    operation_id="article_version",
)
def article_version(
    request: HttpRequest,
    article_id: PathEx[int, P(ge=1, le=MAX_ID)],
    number: PathEx[int, P(ge=1, le=MAX_ID)],
) -> HttpResponse:
    article = _article(article_id)
    versions = _versions(article)
    if number > len(versions):
        raise Http404("没有这一版")
    version = versions[number - 1]
    data = {
        **_content(version),
        "article_id": article.pk,
        "number": number,
        "versions": len(versions),
        "captured_at": version.captured_at,
        "snapshot": reverse("version", args=[article.pk, number]),
        "capture": _capture(version.capture),
    }
    response = _json_response(request, VersionOut.model_validate(data), VERSION_MAX_AGE)
    response["Cache-Control"] += ", immutable"
    return response


@api.get(
    "/lookup",
    response={200: LookupOut, 400: Error, 451: BlockedError, 422: ValidationErrors},
    summary="Every capture of the page a URL names, newest first",
    tags=["lookup"],
    operation_id="lookup",
)
def lookup(
    request: HttpRequest,
    url: QueryEx[str, P(min_length=1, max_length=MAX_URL_CHARS, description=URL_HELP)],
) -> dict[str, Any]:
    raw = url.strip()
    try:
        key = surt(raw)
        canonical = canonicalize(raw)
    except BadUrl:
        raise BadRequest("这不是有效的网址，请检查后重试") from None
    answer: dict[str, Any] = {
        "url": raw,
        "canonical": canonical,
        "surt": key,
        "captured": False,
        "articles": [],
        "captures": [],
    }
    try:
        visibility.guard(canonical)
    except Http404:
        return answer  # excluded: answered exactly as a page never captured
    articles = _listing(Article.objects.filter(surt=key)).order_by("-published_at", "-id")
    captures = Capture.objects.filter(surt=key).order_by("-captured_at", "-id")[:LOOKUP_LIMIT]
    answer["articles"] = [_summary(a) for a in articles]
    answer["captures"] = [_capture(c) for c in captures]
    answer["captured"] = bool(answer["captures"])
    return answer


def _category_counts(articles: QuerySet[Article] | None = None) -> dict[str, int]:
    """Public articles per category, of ``articles`` (default: all)."""
    rows = _listing(articles).values_list("category").annotate(n=Count("id")).order_by()
    return {str(name): int(n) for name, n in rows}


def _category(slug: str, name: str, articles: int) -> dict[str, Any]:
    return {
        "slug": slug,
        "name": name,
        "articles": articles,
        "page": reverse("category", args=[slug]),
        "feed": reverse("category-feed", args=[slug]),
        "latest": reverse("api:category-latest", kwargs={"name": slug}),
    }


@api.get(
    "/categories",
    response={200: list[CategoryOut], **ERRORS},
    summary="The categories, with how many articles each holds",
    tags=["categories"],
    operation_id="categories",
)
def categories(request: HttpRequest) -> list[dict[str, Any]]:
    counts = _category_counts()
    return [_category(slug, name, counts.get(name, 0)) for slug, name in CATEGORIES]


@api.get(
    "/categories/{name}/latest",
    response={200: CategoryPage, **NOT_FOUND},
    url_name="category-latest",
    summary="The newest articles of a category (by publish time), a page at a time",
    tags=["categories"],
    operation_id="category_latest",
)
def category_latest(
    request: HttpRequest,
    name: PathEx[Category, P(description="A category slug or name.")],
    page: QueryEx[int, P(ge=1, le=MAX_PAGE)] = 1,
) -> dict[str, Any]:
    category = CATEGORY_BY_SLUG.get(name.lower(), name)
    if category not in SLUG_BY_CATEGORY:
        raise Http404("没有这个类别")
    articles = _listing(Article.objects.filter(category=category))
    total = articles.count()
    shown = articles.order_by("-published_at", "-id")[_page_slice(page, LATEST_PAGE_SIZE)]
    return {
        "category": _category(SLUG_BY_CATEGORY[category], category, total),
        "total": total,
        "page": page,
        "pages": _pages(total, LATEST_PAGE_SIZE),
        "per_page": LATEST_PAGE_SIZE,
        "results": [_summary(a) for a in shown],
    }


def _outlet_rows(outlets: QuerySet[Outlet]) -> list[dict[str, Any]]:
    slugs = [o.slug for o in outlets]
    articles = dict(
        visibility.public(Article.objects.filter(outlet__slug__in=slugs))
        .values_list("outlet__slug")
        .annotate(n=Count("id"))
    )
    captures = {
        row["outlet"]: row
        for row in Capture.objects.filter(outlet__in=slugs)
        .values("outlet")
        .annotate(n=Count("id"), first=Min("captured_at"), last=Max("captured_at"))
    }
    rows = []
    for outlet in outlets:
        seen: Mapping[str, Any] = captures.get(outlet.slug) or {}
        rows.append(
            {
                "slug": outlet.slug,
                "name": outlet.name,
                "home": outlet.home,
                "articles": articles.get(outlet.slug, 0),
                "captures": seen.get("n", 0),
                "first_capture": seen.get("first"),
                "last_capture": seen.get("last"),
                "api": reverse("api:outlet", kwargs={"slug": outlet.slug}),
            }
        )
    return rows


@api.get(
    "/outlets",
    response={200: list[OutletOut], **ERRORS},
    summary="The outlets crawled, with counts and their last capture",
    tags=["outlets"],
    operation_id="outlets",
)
def outlets(request: HttpRequest) -> list[dict[str, Any]]:
    return _outlet_rows(Outlet.objects.order_by("slug"))


@api.get(
    "/outlets/{slug}",
    response={200: OutletDetail, **NOT_FOUND},
    url_name="outlet",
    summary="One outlet: counts, last capture, articles per category, its newest articles",
    tags=["outlets"],
    operation_id="outlet",
)
def outlet(request: HttpRequest, slug: PathEx[str, P(max_length=64)]) -> dict[str, Any]:
    found = Outlet.objects.filter(slug=slug)
    rows = _outlet_rows(found)
    if not rows:
        raise Http404("没有这个来源网站")
    articles = Article.objects.filter(outlet=found[0])
    latest = _listing(articles).order_by("-published_at", "-id")[:OUTLET_LATEST]
    return {
        **rows[0],
        "categories": _category_counts(articles),
        "latest": [_summary(a) for a in latest],
    }


api.add_router("", "kuaizhao.subscriptions.api.router")
