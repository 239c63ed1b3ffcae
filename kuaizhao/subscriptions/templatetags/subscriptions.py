"""``{% follow_button kind value %}``: the 关注 button of category, outlet, search and
snapshot pages (``kind``: category, outlet, query, story)."""

from __future__ import annotations

from typing import Any

from django import template

from kuaizhao.subscriptions.follows import FollowError, normalize
from kuaizhao.subscriptions.models import Follow

register = template.Library()
FILTERS = ("category", "source", "after", "before")


def query_with_filters(text: str, params: Any) -> str:
    """The search box's text plus the search form's filter fields, as one query to follow."""
    parts = [text] if text else []
    for name in FILTERS:
        value = "".join(str(params.get(name, "")).split())
        if value and f"{name}:" not in text:
            parts.append(f"{name}:{value}")
    return " ".join(parts)


@register.inclusion_tag("subscriptions/_follow_button.html", takes_context=True)
def follow_button(context: dict[str, Any], kind: str, value: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    text = str(value if value is not None else "").strip()
    if kind == "query" and request is not None:
        text = query_with_filters(text, request.GET)
    following = None
    if text and user is not None and user.is_authenticated and kind != "story":
        try:
            _, stored, _ = normalize(kind, text)
        except FollowError:
            stored = text
        following = Follow.objects.filter(user=user, kind=kind, value=stored).first()
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "kind": kind,
        "value": text,
        "following": following,
        "signed_in": bool(user is not None and user.is_authenticated),
        "next": request.get_full_path() if request is not None else "",
    }
