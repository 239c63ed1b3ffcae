"""The public pages: home, category, snapshot, search, URL lookup, archived images."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, render

from kuaizhao import conf
from kuaizhao.archive import caching, diff, searching, snapshot_page
from kuaizhao.archive.models import Article, ArticleVersion, Capture
from kuaizhao.lib.outlets import CATEGORIES
from kuaizhao.lib.surt import BadUrl, canonicalize, surt
from kuaizhao.search.base import Order
from kuaizhao.search.query import Query, QueryError, parse
from kuaizhao.takedown import visibility
from kuaizhao.warc.reader import WarcError, read_capture

CATEGORY_BY_SLUG = dict(CATEGORIES)
HOME_PER_CATEGORY = 8
CATEGORY_PAGE_SIZE = 30
LATEST_IN_CATEGORY = 15
MAX_PAGE = 1000
MAX_SOURCE = 64


def _page_number(request: HttpRequest) -> int:
    try:
        return min(max(1, int(request.GET.get("page", "1"))), MAX_PAGE)
    except ValueError:
        return 1


def _listing() -> QuerySet[Article]:
    articles = Article.objects.select_related("outlet").order_by("-published_at", "-id")
    return visibility.public(articles)


def _unchanging(_: object) -> int:
    """Lists change only with the catalogue: their Last-Modified is the last ingest."""
    return 0


def home(request: HttpRequest) -> HttpResponseBase:
    page = caching.Page(lambda: None, _unchanging, lambda _: _home(request))
    return caching.cached_page(request, ("home",), page)


def _home(request: HttpRequest) -> HttpResponse:
    sections = []
    for slug, name in CATEGORIES:
        articles = searching.newest_in_category(name, HOME_PER_CATEGORY)
        if articles:
            sections.append({"slug": slug, "name": name, "articles": articles})
    context = {"sections": sections, "total": visibility.public(Article.objects.all()).count()}
    return render(request, "archive/home.html", context)


def category(request: HttpRequest, slug: str) -> HttpResponseBase:
    if slug not in CATEGORY_BY_SLUG:
        raise Http404("没有这个类别")
    page = caching.Page(lambda: slug, _unchanging, lambda _: _category(request, slug))
    return caching.cached_page(request, ("category", slug, _page_number(request)), page)


def _category(request: HttpRequest, slug: str) -> HttpResponse:
    name = CATEGORY_BY_SLUG.get(slug)
    if name is None:
        raise Http404("没有这个类别")
    page = searching.latest_in_category(
        name, page=_page_number(request), per_page=CATEGORY_PAGE_SIZE
    )
    context = {"category": {"slug": slug, "name": name}, "page": page, "current_category": name}
    return render(request, "archive/category.html", context)


def _versions(article: Article) -> list[ArticleVersion]:
    return list(article.versions.select_related("capture").order_by("captured_at", "id"))


def _latest_in_category(article: Article) -> list[Article]:
    """更多关于<类别>的资讯: the newest of the category, one per story, not this story."""
    return searching.newest_in_category(article.category, LATEST_IN_CATEGORY, exclude=article)


def _snapshot_article(article_id: int) -> Article:
    """The article a snapshot page shows, if the public may see it (else 404 or 451)."""
    article = get_object_or_404(Article.objects.select_related("outlet", "capture"), id=article_id)
    visibility.guard_article(article)
    return article


def _snapshot_page(request: HttpRequest, article_id: int, number: int | None) -> HttpResponseBase:
    """The snapshot page of the article as version ``number`` said it (None: the newest),
    with validators, from the page cache when it is there (see :mod:`caching`)."""

    def render_page(article: Article) -> HttpResponse:
        versions = _versions(article)
        if number is not None and not 1 <= number <= len(versions):
            raise Http404("没有这一版")
        shown = versions[number - 1] if number is not None else None
        latest = _latest_in_category(article)
        context = snapshot_page.context(request, article, versions, shown, latest)
        response = render(request, "archive/snapshot.html", context)
        snapshot_page.memento_headers(request, response, context["capture"])
        return response

    page = caching.Page(
        lambda: _snapshot_article(article_id),
        lambda article: int(article.last_captured_at.timestamp()),
        render_page,
    )
    return caching.cached_page(request, ("snapshot", article_id, number), page)


def snapshot(request: HttpRequest, article_id: int) -> HttpResponseBase:
    return _snapshot_page(request, article_id, None)


def version(request: HttpRequest, article_id: int, number: int) -> HttpResponseBase:
    """The snapshot page as version ``number`` (1 is the first) of the article said it."""
    return _snapshot_page(request, article_id, number)


def _version_number(request: HttpRequest, name: str, default: int, count: int) -> int:
    text = request.GET.get(name, "")
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= count:
        raise ValueError(f"{name} 应为 1 到 {count} 之间的版本号")
    return int(text)


def version_diff(request: HttpRequest, article_id: int) -> HttpResponse:
    """Title and body differences between two versions (``a`` and ``b``, default the last two)."""
    article = get_object_or_404(Article, id=article_id)
    visibility.guard_article(article)
    versions = _versions(article)
    count = len(versions)
    context: dict[str, Any] = {"article": article, "versions": list(enumerate(versions, 1))}
    try:
        a = _version_number(request, "a", max(1, count - 1), count)
        b = _version_number(request, "b", count, count)
    except ValueError as exc:
        context["error"] = str(exc)
        return render(request, "archive/diff.html", context, status=400)
    old, new = versions[a - 1], versions[b - 1]
    context.update(
        {
            "a": a,
            "b": b,
            "old": old,
            "new": new,
            "current_category": article.category,
            "title_diff": diff.diff_text(old.title, new.title),
            "body_diff": diff.diff_body(old.body_text, new.body_text),
            "same": old.content_hash == new.content_hash,
        }
    )
    return render(request, "archive/diff.html", context)


def _date_filter(request: HttpRequest, name: str, label: str) -> date | None:
    text = request.GET.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise QueryError(f"{label}应为 年-月-日，例如 2024-03-01") from exc


def _with_filters(query: Query, request: HttpRequest) -> Query:
    """The search form's filter fields on top of what the query text says."""
    source = request.GET.get("source", "").strip()[:MAX_SOURCE]
    after = _date_filter(request, "after", "起始日期")
    before = _date_filter(request, "before", "截止日期")
    query = replace(
        query,
        source=source or query.source,
        after=after or query.after,
        before=before or query.before,
    )
    if query.after and query.before and query.after > query.before:
        raise QueryError("起始日期晚于截止日期")
    return query


def search(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "")
    slug = request.GET.get("category", "")
    order: Order = "time" if request.GET.get("order") == "time" else "relevance"
    context: dict[str, Any] = {"q": text, "category": slug, "order": order, "error": ""}
    context |= {k: request.GET.get(k, "").strip() for k in ("source", "after", "before")}
    try:
        query = _with_filters(parse(text), request)
    except QueryError as exc:
        context["error"] = str(exc)
        return render(request, "archive/search.html", context, status=400)
    if not query.empty:
        page = searching.search(
            query, category=CATEGORY_BY_SLUG.get(slug), page=_page_number(request), order=order
        )
        ids = [hit.article_id for hit in page.hits]
        articles = visibility.public(Article.objects.select_related("outlet")).in_bulk(ids)
        context["page"] = page
        context["results"] = [
            (h, articles[h.article_id]) for h in page.hits if h.article_id in articles
        ]
    return render(request, "archive/search.html", context)


def lookup(request: HttpRequest) -> HttpResponse:
    """信息快照查询: every capture of the page a URL names, newest first."""
    raw = request.GET.get("url", "").strip()
    context: dict[str, Any] = {"url": raw}
    if raw:
        if len(raw) > 2000:
            context["error"] = "网址过长"
            return render(request, "archive/lookup.html", context, status=400)
        try:
            key = surt(raw)
        except BadUrl:
            context["error"] = "这不是有效的网址，请检查后重试"
            return render(request, "archive/lookup.html", context, status=400)
        context["canonical"] = canonicalize(raw)
        captures = (
            Capture.objects.filter(surt=key) if visibility.shown(raw) else Capture.objects.none()
        )
        context["articles"] = list(_listing().filter(surt=key))
        context["captures"] = list(captures.order_by("-captured_at")[:200])
    return render(request, "archive/lookup.html", context)


def archived_image(request: HttpRequest) -> HttpResponse:
    """An image as the crawler captured it, so snapshot pages never hot-link the original."""
    try:
        key = surt(request.GET.get("url", ""))
    except BadUrl as exc:
        raise Http404("此图片未被存档") from exc
    visibility.guard_surt(key)
    capture = (
        Capture.objects.filter(surt=key, status=200, mime__startswith="image/")
        .order_by("-captured_at")
        .first()
    )
    if capture is None:
        raise Http404("此图片未被存档")
    try:
        record = read_capture(conf.warc_dir() / capture.warc_file, capture.offset)
    except (WarcError, OSError) as exc:
        raise Http404("存档文件无法读取") from exc
    response = HttpResponse(record.payload, content_type=capture.mime)
    response["Cache-Control"] = "public, max-age=86400, immutable"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
