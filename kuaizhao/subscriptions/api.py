"""The JSON API of 我的订阅: ``/api/follows`` and ``/api/me/feed``, for scripts.

Authentication is a bearer token (``Authorization: Bearer kz_…``) made on the 我的订阅 page
or by ``kuaizhao users create EMAIL --token``; only its SHA-256 is stored.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.params import P, QueryEx
from ninja.security import HttpBearer

from kuaizhao.subscriptions import follows as following
from kuaizhao.subscriptions.delivery import as_json
from kuaizhao.subscriptions.models import ApiToken, Follow, digest_of
from kuaizhao.subscriptions.views import visible_matches

MAX_FEED = 200
MAX_ID = 2**63 - 1


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        row = ApiToken.objects.select_related("user").filter(digest=digest_of(token)).first()
        if row is None or not row.user.is_active:
            return None
        return row.user


router = Router(auth=TokenAuth(), tags=["subscriptions"])


class FollowIn(Schema):
    kind: str
    """category (name or slug), outlet (slug), query (search query language), story (id)"""
    value: str


class FollowOut(Schema):
    id: int
    kind: str
    value: str
    label: str
    created_at: str


class FollowList(Schema):
    follows: list[FollowOut]


class MatchArticle(Schema):
    id: int
    title: str
    url: str
    outlet: str
    category: str
    published_at: str | None
    snapshot: str


class MatchOut(Schema):
    id: int
    kind: str
    """new (a story), coverage (a new copy of a followed story), edit (a new version)"""
    story: int
    follow: int | None
    matched_at: str
    read: bool
    article: MatchArticle
    link: str
    """the snapshot, or for an edit the diff of its last two versions"""


class Feed(Schema):
    matches: list[MatchOut]


class Problem(Schema):
    detail: str


def _user(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


@router.get(
    "/follows",
    response={200: FollowList},
    summary="The follows of the token's owner, newest first",
    operation_id="follows",
)
def list_follows(request: HttpRequest) -> dict[str, Any]:
    rows = Follow.objects.filter(user=_user(request)).order_by("-created_at", "-id")
    return {"follows": [following.as_json(f) for f in rows]}


@router.post(
    "/follows",
    response={200: FollowOut, 201: FollowOut, 400: Problem},
    summary="Follow something (201), or get the existing follow of it (200)",
    operation_id="follow",
)
def add_follow(request: HttpRequest, payload: FollowIn) -> Status[dict[str, Any]]:
    try:
        follow, new = following.create(_user(request), payload.kind, payload.value)
    except following.FollowError as exc:
        return Status(400, {"detail": str(exc)})
    return Status(201 if new else 200, following.as_json(follow))


@router.delete(
    "/follows/{follow_id}",
    response={204: None, 404: Problem},
    summary="Stop following",
    operation_id="unfollow",
)
def delete_follow(request: HttpRequest, follow_id: int) -> Status[dict[str, str] | None]:
    follow = None
    if follow_id <= MAX_ID:
        follow = Follow.objects.filter(id=follow_id, user=_user(request)).first()
    if follow is None:
        return Status(404, {"detail": "没有这个关注"})
    follow.delete()
    return Status(204, None)


@router.get(
    "/me/feed",
    response={200: Feed},
    summary="What matched the token owner's follows, newest first, one entry per story",
    operation_id="my_feed",
)
def my_feed(
    request: HttpRequest,
    limit: QueryEx[int, P(ge=1, le=MAX_FEED)] = 50,
    unread: bool = False,
) -> dict[str, Any]:
    matches = visible_matches(_user(request))
    if unread:
        matches = matches.filter(read=False)
    return {"matches": [as_json(m) for m in matches[:limit]]}
