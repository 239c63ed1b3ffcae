"""Private Atom feeds: a reader's matches, or one follow's, behind a secret token.

The token is the only credential (feed readers do not log in), so it is long, random and
replaced on request, which retires the old address at once.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from kuaizhao.search.query import QueryError
from kuaizhao.subscriptions.matching import document
from kuaizhao.subscriptions.models import Follow, Match, Profile
from kuaizhao.subscriptions.percolate import spec
from kuaizhao.subscriptions.views import match_link, visible_matches

FEED_SIZE = 50
SCANNED = 500
KIND_WORDS = {"new": "", "coverage": "【新转载】", "edit": "【内容修改】"}


class _MatchFeed(Feed[Match, Profile | Follow]):
    feed_type = Atom1Feed

    def link(self, obj: Profile | Follow) -> str:
        return reverse("subscriptions")

    def item_title(self, item: Match) -> str:
        return KIND_WORDS.get(item.kind, "") + item.article.title

    def item_description(self, item: Match) -> str:
        return item.article.summary

    def item_link(self, item: Match) -> str:
        return match_link(item)

    def item_guid(self, item: Match) -> str:
        return f"kuaizhao-match-{item.id}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: Match) -> datetime:
        return item.created_at

    def item_updateddate(self, item: Match) -> datetime:
        return item.created_at

    def item_author_name(self, item: Match) -> str:
        article = item.article
        return article.outlet.name if article.outlet else article.source


class ReaderFeed(_MatchFeed):
    def get_object(self, request: HttpRequest, token: str) -> Profile:
        profile = Profile.objects.select_related("user").filter(feed_token=token).first()
        if profile is None or not profile.user.is_active:
            raise Http404("订阅源不存在或地址已更换")
        return profile

    def title(self, obj: Profile | Follow) -> str:
        return "我的订阅"

    def subtitle(self, obj: Profile | Follow) -> str:
        return "关注内容的新报道、新转载与修改"

    def items(self, obj: Profile | Follow) -> list[Match]:
        return list(visible_matches(obj.user)[:FEED_SIZE])


class FollowFeed(_MatchFeed):
    def get_object(self, request: HttpRequest, token: str) -> Follow:
        follow = Follow.objects.select_related("user").filter(feed_token=token).first()
        if follow is None or not follow.user.is_active:
            raise Http404("订阅源不存在或地址已更换")
        return follow

    def title(self, obj: Profile | Follow) -> str:
        return f"我的订阅 · {obj}"

    def subtitle(self, obj: Profile | Follow) -> str:
        return f"{obj} 的新报道"

    def items(self, obj: Profile | Follow) -> list[Match]:
        """The reader's matches this follow makes: a story is recorded once, under the first
        of the reader's follows that matched it, so the others are asked again here."""
        assert isinstance(obj, Follow)
        try:
            wanted = spec(obj.kind, obj.value)
        except (QueryError, ValueError):
            return []
        kept: list[Match] = []
        for match in visible_matches(obj.user)[:SCANNED]:
            if (
                match.follow_id == obj.pk
                or (obj.kind == "story" and str(match.story) == obj.value)
                or (obj.kind != "story" and wanted.matches(document(match.article)))
            ):
                kept.append(match)
                if len(kept) == FEED_SIZE:
                    break
        return kept
