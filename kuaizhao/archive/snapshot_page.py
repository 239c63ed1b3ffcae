"""What a snapshot page shows besides the article itself: the story's other copies, related
coverage, the latest in the category, the capture record, versions, and where each metadata
field was found."""

from __future__ import annotations

import copy
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from kuaizhao.archive import mementos, searching
from kuaizhao.archive.models import Article, ArticleVersion, Capture
from kuaizhao.takedown import visibility

CAPTURES_SHOWN = 50
GONE_STATUSES = (404, 410)

# (field, label) in the order the page shows them; provenance is keyed by the field name.
METADATA = (
    ("title", "标题"),
    ("category", "类别"),
    ("publish_time", "发布时间"),
    ("source", "来源"),
    ("repost_from", "本文转自"),
    ("author", "作者"),
    ("editor", "责任编辑"),
)


def story(article: Article) -> dict[str, Any]:
    """The other public copies of the article's story and the outlets that carry them."""
    ids = [a.pk for a in searching.copies(article)]
    copies = list(
        visibility.public(Article.objects.filter(pk__in=ids))
        .select_related("outlet")
        .order_by("first_captured_at", "id")
    )
    original = searching.story_original(article)
    outlets = {(a.outlet.name if a.outlet else a.source) for a in copies}
    outlets.discard(article.outlet.name if article.outlet else article.source)
    return {
        "copies": copies,
        "outlet_count": len(outlets),
        "original": original if original.pk != article.pk and visibility_ok(original) else None,
        "is_original": original.pk == article.pk and bool(copies),
    }


def visibility_ok(article: Article) -> bool:
    return visibility.is_public(article.pk) and visibility.visible_surt(article.surt)


def provenance(article: Article) -> list[dict[str, str]]:
    """Each metadata field the page shows, with the rule or element it was taken from."""
    values = {
        "title": article.title,
        "category": article.category,
        "publish_time": article.published_at.isoformat() if article.published_at else "",
        "source": article.source,
        "repost_from": article.repost_from,
        "author": article.author,
        "editor": article.editor,
    }
    found = article.provenance or {}
    return [
        {"field": name, "label": label, "where": str(found.get(name, ""))}
        for name, label in METADATA
        if values[name]
    ]


def origin_gone(captures: list[Capture]) -> Capture | None:
    """The newest capture when the original page answered 404 or 410 to it."""
    if captures and captures[0].status in GONE_STATUSES:
        return captures[0]
    return None


def context(
    request: HttpRequest,
    article: Article,
    versions: list[ArticleVersion],
    shown: ArticleVersion | None,
    latest: list[Article],
) -> dict[str, Any]:
    """The snapshot page of ``article`` as it is now, or as the ``shown`` version said it;
    ``latest`` is the 更多关于… list."""
    content = article
    if shown is not None:
        content = copy.copy(article)
        shown.apply_to(content)
    capture = content.capture
    phrase, related = searching.related(article)
    captures = list(
        Capture.objects.filter(surt=article.surt).order_by("-captured_at")[:CAPTURES_SHOWN]
    )
    number = versions.index(shown) + 1 if shown is not None else len(versions)
    canonical = reverse("snapshot", args=[article.pk])
    return {
        "article": content,
        "current_category": article.category,
        "capture": capture,
        "captures": captures,
        "origin_gone": origin_gone(captures),
        "versions": list(enumerate(versions, 1)),
        "version_number": number,
        "is_latest": shown is None or number == len(versions),
        "incomplete": bool(versions) and bool(versions[number - 1].missing_page),
        "replay_url": mementos.memento_path(capture),
        "related_phrase": phrase,
        "related_terms": (phrase,),
        "related": related,
        "latest": latest,
        "story": story(article),
        "provenance": provenance(content),
        "canonical_url": request.build_absolute_uri(canonical),
        "page_url": request.build_absolute_uri(request.path),
    }


def memento_headers(request: HttpRequest, response: HttpResponse, capture: Capture) -> None:
    """RFC 7089: the page is a memento of the original URL at its capture time."""
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
