"""我的订阅: the reader's matches, follows and delivery settings, and the follow button."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from kuaizhao.archive.models import Article
from kuaizhao.subscriptions import follows as following
from kuaizhao.subscriptions.accounts import profile_of
from kuaizhao.subscriptions.delivery import WebhookRefused, absolute, check_webhook_url
from kuaizhao.subscriptions.matching import visible
from kuaizhao.subscriptions.models import ApiToken, Follow, Match, Profile, new_token

PAGE_SIZE = 30
MAX_ID = 2**63 - 1
"""Larger ids cannot be rows (PostgreSQL would refuse to compare them): 404, not 500."""


def me(request: HttpRequest) -> User:
    """The signed-in reader (the views that call this require one)."""
    return cast(User, request.user)


def visible_matches(user: Any) -> QuerySet[Match]:
    """The reader's matches whose article may still be shown, newest first."""
    shown = visible(Article.objects.all()).values("id")
    return (
        Match.objects.filter(user=user, article_id__in=shown)
        .select_related("article", "article__outlet", "follow")
        .order_by("-created_at", "-id")
    )


def match_link(match: Match) -> str:
    if match.kind == "edit":
        return reverse("version-diff", args=[match.article_id])
    return reverse("snapshot", args=[match.article_id])


class SettingsForm(forms.ModelForm[Profile]):
    webhook_url = forms.URLField(
        label="Webhook 地址（可选）", required=False, max_length=500, assume_scheme="https"
    )

    class Meta:
        model = Profile
        fields = ["digest", "webhook_url"]
        labels = {"digest": "邮件摘要", "webhook_url": "Webhook 地址（可选）"}

    def clean_webhook_url(self) -> str:
        url = str(self.cleaned_data.get("webhook_url") or "")
        if url:
            try:
                check_webhook_url(url)
            except WebhookRefused as exc:
                raise forms.ValidationError(str(exc)) from None
        return url


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "subscriptions/welcome.html")
    user = request.user
    profile = profile_of(user)
    matches = visible_matches(user)
    if request.GET.get("unread") == "1":
        matches = matches.filter(read=False)
    page = Paginator(matches, PAGE_SIZE).get_page(request.GET.get("page"))
    entries = [(m, match_link(m)) for m in page]
    context = {
        "profile": profile,
        "page": page,
        "entries": entries,
        "unread": visible_matches(user).filter(read=False).count(),
        "only_unread": request.GET.get("unread") == "1",
        "follows": [
            (f, absolute(reverse("subscriptions-follow-feed", args=[f.feed_token])))
            for f in Follow.objects.filter(user=user).order_by("-created_at")
        ],
        "feed_url": absolute(reverse("subscriptions-feed", args=[profile.feed_token])),
        "settings_form": SettingsForm(instance=profile),
        "api_token": request.session.pop("new_api_token", None),
    }
    return render(request, "subscriptions/home.html", context)


def _back(request: HttpRequest, fallback: str = "subscriptions") -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


@require_POST
def follow(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={reverse('subscriptions')}")
    try:
        made, new = following.create(
            request.user, request.POST.get("kind", ""), request.POST.get("value", "")
        )
    except following.FollowError as exc:
        messages.error(request, f"无法关注：{exc}")
        return _back(request)
    messages.success(request, f"已关注 {made}" if new else f"您已关注 {made}")
    return _back(request)


@login_required
@require_POST
def unfollow(request: HttpRequest, follow_id: int) -> HttpResponse:
    if follow_id > MAX_ID:
        raise Http404("没有这个关注")
    gone = get_object_or_404(Follow, id=follow_id, user=me(request))
    messages.success(request, f"已取消关注 {gone}")
    gone.delete()
    return _back(request)


@login_required
def open_match(request: HttpRequest, match_id: int) -> HttpResponse:
    if match_id > MAX_ID:
        raise Http404("没有这条订阅内容")
    match = get_object_or_404(visible_matches(request.user), id=match_id)
    if not match.read:
        Match.objects.filter(id=match.id).update(read=True)
    return redirect(match_link(match))


@login_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    Match.objects.filter(user=me(request), read=False).update(read=True)
    return _back(request)


@login_required
@require_POST
def update_settings(request: HttpRequest) -> HttpResponse:
    form = SettingsForm(request.POST, instance=profile_of(request.user))
    if form.is_valid():
        form.save()
        messages.success(request, "设置已保存")
    else:
        for errors in form.errors.values():
            messages.error(request, "；".join(str(e) for e in errors))
    return redirect("subscriptions")


@login_required
@require_POST
def new_feed_token(request: HttpRequest) -> HttpResponse:
    """A new secret for the reader's feed (or one follow's): the old address stops working."""
    follow_id = request.POST.get("follow", "")
    if follow_id:
        known = follow_id.isdigit() and int(follow_id) <= MAX_ID
        mine = Follow.objects.filter(id=int(follow_id), user=me(request)) if known else None
        if mine is None or not mine.update(feed_token=new_token()):
            raise Http404("没有这个关注")
    else:
        Profile.objects.filter(user=me(request)).update(feed_token=new_token())
    messages.success(request, "订阅源地址已更换，旧地址已失效")
    return redirect("subscriptions")


@login_required
@require_POST
def new_webhook_secret(request: HttpRequest) -> HttpResponse:
    Profile.objects.filter(user=me(request)).update(webhook_secret=new_token())
    messages.success(request, "Webhook 签名密钥已更换")
    return redirect("subscriptions")


@login_required
@require_POST
def new_api_token(request: HttpRequest) -> HttpResponse:
    request.session["new_api_token"] = ApiToken.issue(me(request))
    return redirect("subscriptions")


@login_required
@require_POST
def revoke_api_tokens(request: HttpRequest) -> HttpResponse:
    ApiToken.objects.filter(user=me(request)).delete()
    messages.success(request, "所有 API 令牌已作废")
    return redirect("subscriptions")
