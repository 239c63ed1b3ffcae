"""The public pages: home, category, snapshot, search, URL lookup, archived images."""

from __future__ import annotations

import copy
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from kuaizhao import conf
from kuaizhao.archive import diff, mementos, searching
from kuaizhao.archive.models import Article, ArticleVersion, Capture
from kuaizhao.lib.outlets import CATEGORIES
from kuaizhao.lib.surt import BadUrl, canonicalize, surt
from kuaizhao.search.base import Order
from kuaizhao.search.query import QueryError, parse
from kuaizhao.warc.reader import WarcError, read_capture

CATEGORY_BY_SLUG = dict(CATEGORIES)
HOME_PER_CATEGORY = 8
CATEGORY_PAGE_SIZE = 30
LATEST_IN_CATEGORY = 15
MAX_PAGE = 1000


def _page_number(request: HttpRequest) -> int:
    try:
        return min(max(1, int(request.GET.get("page", "1"))), MAX_PAGE)
    except ValueError:
        return 1


def _listing() -> QuerySet[Article]:
    return Article.objects.select_related("outlet").order_by("-published_at", "-id")


def distinct(articles: QuerySet[Article], limit: int) -> list[Article]:
    """The first ``limit`` articles, one per story: syndicated copies share a title."""
    seen: set[str] = set()
    kept: list[Article] = []
    for article in articles[: limit * 4]:
        if article.title not in seen:
            seen.add(article.title)
            kept.append(article)
            if len(kept) == limit:
                break
    return kept


def home(request: HttpRequest) -> HttpResponse:
    sections = []
    for slug, name in CATEGORIES:
        articles = distinct(_listing().filter(category=name), HOME_PER_CATEGORY)
        if articles:
            sections.append({"slug": slug, "name": name, "articles": articles})
    context = {"sections": sections, "total": Article.objects.count()}
    return render(request, "archive/home.html", context)


def category(request: HttpRequest, slug: str) -> HttpResponse:
    name = CATEGORY_BY_SLUG.get(slug)
    if name is None:
        raise Http404("没有这个类别")
    paginator = Paginator(_listing().filter(category=name), CATEGORY_PAGE_SIZE)
    page = paginator.get_page(_page_number(request))
    context = {"category": {"slug": slug, "name": name}, "page": page, "current_category": name}
    return render(request, "archive/category.html", context)


def _versions(article: Article) -> list[ArticleVersion]:
    return list(article.versions.select_related("capture").order_by("captured_at", "id"))


def _snapshot_page(
    request: HttpRequest,
    article: Article,
    versions: list[ArticleVersion],
    shown: ArticleVersion | None,
) -> HttpResponse:
    """The snapshot page of ``article`` as it is now, or as ``shown`` version said it."""
    content = article
    if shown is not None:
        content = copy.copy(article)
        shown.apply_to(content)
    capture = content.capture
    phrase, related = searching.related(article)
    latest = _listing().filter(category=article.category).exclude(id=article.id)
    captures = Capture.objects.filter(surt=article.surt).order_by("-captured_at")
    number = versions.index(shown) + 1 if shown is not None else len(versions)
    context: dict[str, Any] = {
        "article": content,
        "current_category": article.category,
        "capture": capture,
        "captures": captures[:50],
        "versions": [(i, v) for i, v in enumerate(versions, 1)],
        "version_number": number,
        "is_latest": shown is None or number == len(versions),
        "replay_url": mementos.memento_path(capture),
        "related_phrase": phrase,
        "related_terms": (phrase,),
        "related": related,
        "latest": distinct(latest.exclude(title=article.title), LATEST_IN_CATEGORY),
    }
    response = render(request, "archive/snapshot.html", context)
    url = capture.url
    response["Memento-Datetime"] = mementos.http_date(capture.captured_at)
    response["Link"] = ", ".join(
        [
            mementos.link(url, "original"),
            mementos.link(request.build_absolute_uri(mementos.timegate_path(url)), "timegate"),
            mementos.link(
                request.build_absolute_uri(mementos.timemap_path(url)),
                "timemap",
                type=mementos.LINK_FORMAT,
            ),
        ]
    )
    return response


def snapshot(request: HttpRequest, article_id: int) -> HttpResponse:
    article = get_object_or_404(Article.objects.select_related("outlet", "capture"), id=article_id)
    return _snapshot_page(request, article, _versions(article), None)


def version(request: HttpRequest, article_id: int, number: int) -> HttpResponse:
    """The snapshot page as version ``number`` (1 is the first) of the article said it."""
    article = get_object_or_404(Article.objects.select_related("outlet", "capture"), id=article_id)
    versions = _versions(article)
    if not 1 <= number <= len(versions):
        raise Http404("没有这一版")
    return _snapshot_page(request, article, versions, versions[number - 1])


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


def search(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "")
    slug = request.GET.get("category", "")
    order: Order = "time" if request.GET.get("order") == "time" else "relevance"
    context: dict[str, Any] = {"q": text, "category": slug, "order": order, "error": ""}
    try:
        query = parse(text)
    except QueryError as exc:
        context["error"] = str(exc)
        return render(request, "archive/search.html", context, status=400)
    if not query.empty:
        page = searching.search(
            query, category=CATEGORY_BY_SLUG.get(slug), page=_page_number(request), order=order
        )
        ids = [hit.article_id for hit in page.hits]
        articles = Article.objects.select_related("outlet").in_bulk(ids)
        context["page"] = page
        context["results"] = [(hit, articles[hit.article_id]) for hit in page.hits]
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
        context["articles"] = list(_listing().filter(surt=key))
        context["captures"] = list(Capture.objects.filter(surt=key).order_by("-captured_at")[:200])
    return render(request, "archive/lookup.html", context)


def archived_image(request: HttpRequest) -> HttpResponse:
    """An image as the crawler captured it, so snapshot pages never hot-link the original."""
    try:
        key = surt(request.GET.get("url", ""))
    except BadUrl as exc:
        raise Http404("此图片未被存档") from exc
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


def takedown(request: HttpRequest) -> HttpResponse:
    return render(request, "archive/takedown.html")


def subscriptions(request: HttpRequest) -> HttpResponse:
    return render(request, "archive/subscriptions.html")
