"""The public side of takedown: the request form, the e-mail confirmation, the status page
behind its secret link, the counter-notice form, the transparency page; and the staff queue."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from django.contrib.auth.decorators import user_passes_test
from django.core.exceptions import RequestDataTooBig
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from kuaizhao.takedown import actions
from kuaizhao.takedown.forms import CounterNoticeForm, InformationForm, RequestForm, ReviewForm
from kuaizhao.takedown.models import REASONS, VERBS, Event, Request, Rule

RATE_WINDOW = timedelta(hours=1)
RATE_LIMIT = 5
"""Requests one address may file per window: enough for a rights holder, not for a flood."""

PUBLIC_ACTIONS = {
    "request.file": "已提交",
    "request.confirm": "邮箱已确认",
    "request.ask": "需要补充材料",
    "request.reply": "已补充材料",
    "request.approve": "已批准",
    "request.reject": "已驳回",
    "request.counter": "收到异议",
    "request.restore": "已恢复",
}


def _address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def too_large(request: HttpRequest) -> HttpResponse:
    context = {"form": RequestForm(), "too_large": True}
    return render(request, "takedown/request_form.html", context, status=413)


@require_http_methods(["GET", "HEAD", "POST"])
def request_form(request: HttpRequest) -> HttpResponse:
    try:
        posted = request.POST
    except RequestDataTooBig:
        return too_large(request)
    form = RequestForm(posted or None, initial={"urls": request.GET.get("url", "")})
    if request.method == "POST":
        client = actions.client_key(_address(request))
        since = timezone.now() - RATE_WINDOW
        if actions.recent_requests(client, since) >= RATE_LIMIT:
            context = {"form": form, "limited": True}
            response = render(request, "takedown/request_form.html", context, status=429)
            response["Retry-After"] = str(int(RATE_WINDOW.total_seconds()))
            return response
        if form.is_valid():
            data = form.cleaned_data
            filed = actions.file_request(
                requester=data["requester"],
                email=data["email"],
                scope=data["scope"],
                urls=data["urls"],
                reason=data["reason"],
                explanation=data["explanation"],
                proof=data["proof"],
                client=client,
            )
            confirm = request.build_absolute_uri(
                reverse("takedown-confirm", args=[filed.email_token])
            )
            status_url = request.build_absolute_uri(reverse("takedown-status", args=[filed.secret]))
            actions.notify(
                filed,
                "请确认您的邮箱",
                f"我们收到了您的删除请求 {filed.number}。"
                f"请打开下面的链接确认邮箱，确认后才会审核：\n\n{confirm}\n\n"
                f"处理进度可随时在这里查看（请勿转发此链接）：\n\n{status_url}\n",
            )
            return HttpResponseRedirect(reverse("takedown-status", args=[filed.secret]))
        return render(request, "takedown/request_form.html", {"form": form}, status=400)
    return render(request, "takedown/request_form.html", {"form": form})


@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    filed = get_object_or_404(Request, email_token=token)
    if request.method == "POST":
        actions.confirm_email(filed)
        return HttpResponseRedirect(reverse("takedown-status", args=[filed.secret]))
    return render(request, "takedown/confirm.html", {"filed": filed})


def _public_events(filed: Request) -> QuerySet[Event]:
    return filed.events.filter(action__in=list(PUBLIC_ACTIONS))


@require_http_methods(["GET", "HEAD", "POST"])
def status(request: HttpRequest, secret: str) -> HttpResponse:
    filed = get_object_or_404(Request, secret=secret)
    form = InformationForm(request.POST or None)
    code = 200
    if request.method == "POST":
        if filed.status != Request.Status.INFO:
            form.add_error(None, "此请求现在不需要补充材料")
            code = 409
        elif form.is_valid():
            actions.add_information(filed, form.cleaned_data["text"])
            return HttpResponseRedirect(request.path)
        else:
            code = 400
    context = {
        "filed": filed,
        "form": form,
        "events": [(e, PUBLIC_ACTIONS[e.action]) for e in _public_events(filed)],
    }
    return render(request, "takedown/status.html", context, status=code)


def find_counter(request: HttpRequest) -> HttpResponse:
    number = request.GET.get("number", "").strip().upper()
    if Request.objects.filter(number=number, status=Request.Status.APPROVED).exists():
        return HttpResponseRedirect(reverse("takedown-counter", args=[number]))
    raise Http404("没有这个已批准的删除请求，请核对请求编号")


@require_http_methods(["GET", "HEAD", "POST"])
def counter(request: HttpRequest, number: str) -> HttpResponse:
    """A counter-notice by whoever published a removed page; anyone holding the number
    (the 451 page names it) may file one, and staff decide whether to restore."""
    filed = get_object_or_404(Request, number=number, status=Request.Status.APPROVED)
    form = CounterNoticeForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                actions.counter_notice(
                    filed, name=data["name"], email=data["email"], text=data["text"]
                )
            except actions.ActionError as exc:
                form.add_error(None, str(exc))
                context = {"filed": filed, "form": form}
                return render(request, "takedown/counter.html", context, status=429)
            return render(request, "takedown/counter.html", {"filed": filed, "done": True})
        return render(request, "takedown/counter.html", {"filed": filed, "form": form}, status=400)
    return render(request, "takedown/counter.html", {"filed": filed, "form": form})


def transparency(request: HttpRequest) -> HttpResponse:
    """Counts only: per month and reason, what was asked and what was decided."""
    reasons = dict(REASONS)
    verbs = dict(VERBS)
    counts: Counter[tuple[str, str, str]] = Counter()
    filed = Request.objects.exclude(status=Request.Status.UNCONFIRMED)
    for created, reason in filed.values_list("created_at", "reason"):
        counts[(timezone.localtime(created).strftime("%Y-%m"), reason, "filed")] += 1
    decisions = Event.objects.filter(
        action__in=["request.approve", "request.reject", "request.restore"]
    ).values_list("at", "request__reason", "action")
    for at, reason, action in decisions:
        counts[(timezone.localtime(at).strftime("%Y-%m"), reason, action.split(".")[1])] += 1
    rows: dict[tuple[str, str], dict[str, int]] = {}
    for (month, reason, kind), n in counts.items():
        rows.setdefault((month, reason), {})[kind] = n
    table = [
        {"month": month, "reason": reasons.get(reason, reason), **values}
        for (month, reason), values in sorted(rows.items(), reverse=True)
    ]
    in_force: Counter[str] = Counter(
        Rule.objects.filter(revoked_at__isnull=True).values_list("verb", flat=True)
    )
    context: dict[str, Any] = {
        "table": table,
        "rules": [(verbs[v], in_force.get(v, 0)) for v, _ in VERBS],
    }
    return render(request, "takedown/transparency.html", context)


# --- staff ------------------------------------------------------------------------------------

staff_member_required = user_passes_test(
    lambda user: bool(user.is_active and user.is_staff), login_url="takedown-login"
)


@staff_member_required
def queue(request: HttpRequest) -> HttpResponse:
    open_states = [Request.Status.PENDING, Request.Status.INFO]
    context = {
        "waiting": Request.objects.filter(status__in=open_states).order_by("created_at"),
        "disputed": Request.objects.filter(
            status=Request.Status.APPROVED, counter_notice_at__isnull=False
        ),
        "recent": Request.objects.exclude(status__in=open_states).order_by("-created_at")[:50],
    }
    return render(request, "takedown/queue.html", context)


@staff_member_required
@require_http_methods(["GET", "HEAD", "POST"])
def review(request: HttpRequest, pk: int) -> HttpResponse:
    filed = get_object_or_404(Request, pk=pk)
    form = ReviewForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        actor = request.user.get_username()
        try:
            match data["action"]:
                case "approve":
                    actions.approve(
                        filed,
                        actor=actor,
                        verb=data["verb"] or "block",
                        note=data["note"],
                        starts_at=data["starts_at"],
                        ends_at=data["ends_at"],
                    )
                case "reject":
                    actions.reject(filed, actor=actor, why=data["note"])
                case "ask":
                    actions.ask_information(filed, actor=actor, what=data["note"])
                case _:
                    actions.restore(filed, actor=actor, why=data["note"])
        except actions.ActionError as exc:
            error = str(exc)
        else:
            return HttpResponseRedirect(request.path)
    context = {
        "filed": filed,
        "form": form,
        "error": error,
        "events": filed.events.all(),
        "rules": filed.rules.all(),
    }
    return render(request, "takedown/review.html", context, status=400 if error else 200)
