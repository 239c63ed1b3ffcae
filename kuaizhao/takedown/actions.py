"""Everything that changes a request or a rule, each step written to the audit trail.

The web pages, the staff review pages and ``kuaizhao takedown`` all act through here, so an
operator's rule has the same effect and the same audit as an approved request.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from kuaizhao.archive.models import ArticleVersion
from kuaizhao.lib.surt import BadUrl, surt
from kuaizhao.takedown import visibility
from kuaizhao.takedown.models import Event, Request, Rule

Status = Request.Status


class ActionError(ValueError):
    """A step that does not apply to the request or rule in its current state."""


def audit(
    actor: str,
    action: str,
    *,
    request: Request | None = None,
    rule: Rule | None = None,
    detail: str = "",
) -> Event:
    return Event.objects.create(
        actor=actor[:150], action=action, request=request, rule=rule, detail=detail
    )


def key_for(target: str) -> str:
    """The SURT key of a URL; a SURT given as such (``com,example)/path``) is kept."""
    target = target.strip()
    if ")" in target and "://" not in target and not target.startswith(("http:", "https:")):
        return target
    try:
        return surt(target)
    except BadUrl as exc:
        raise ActionError(str(exc)) from None


def apply_rule(
    target: str,
    verb: str,
    *,
    actor: str,
    reason: str = "other",
    note: str = "",
    exact: bool = False,
    request: Request | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> Rule:
    """Make a rule and bring every public surface in line with it at once."""
    if verb not in ("exclude", "block", "allow"):
        raise ActionError(f"unknown verb {verb!r} (exclude, block or allow)")
    if starts_at and ends_at and ends_at <= starts_at:
        raise ActionError("the embargo must end after it starts")
    with transaction.atomic():
        rule = Rule.objects.create(
            surt=key_for(target),
            exact=exact,
            verb=verb,
            reason=reason,
            note=note,
            request=request,
            created_by=actor[:150],
            starts_at=starts_at,
            ends_at=ends_at,
        )
        window = ""
        if starts_at or ends_at:
            window = f" from {starts_at or '-'} until {ends_at or '-'}"
        visibility.forget()
        audit(
            actor,
            "rule.apply",
            request=request,
            rule=rule,
            detail=f"{verb} {rule}{window}: {note}".strip(),
        )
        visibility.sync_due()
    return rule


def revoke_rule(rule: Rule, *, actor: str, why: str) -> None:
    if rule.revoked_at is not None:
        raise ActionError(f"rule {rule.pk} was already revoked on {rule.revoked_at:%Y-%m-%d}")
    with transaction.atomic():
        rule.revoked_at = timezone.now()
        rule.revoked_by = actor[:150]
        rule.revoke_reason = why
        rule.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        audit(actor, "rule.revoke", request=rule.request, rule=rule, detail=why)
        visibility.forget()
        visibility.sync_due()


# --- requests ---------------------------------------------------------------------------------


def client_key(address: str) -> str:
    """What rate limiting remembers of a requester's address: a keyed hash, not the address."""
    return hashlib.sha256(f"{settings.SECRET_KEY}|{address}".encode()).hexdigest()[:32]


def recent_requests(client: str, since: datetime) -> int:
    return Request.objects.filter(client=client, created_at__gte=since).count()


def file_request(
    *,
    requester: str,
    email: str,
    scope: str,
    urls: Sequence[str],
    reason: str,
    explanation: str,
    proof: str,
    client: str,
) -> Request:
    with transaction.atomic():
        request = Request.objects.create(
            number=secrets.token_hex(8),
            secret=secrets.token_urlsafe(32),
            email_token=secrets.token_urlsafe(32),
            requester=requester,
            email=email,
            scope=scope,
            urls="\n".join(urls),
            reason=reason,
            explanation=explanation,
            proof=proof,
            client=client,
        )
        request.number = f"KZ-{request.created_at:%Y}-{request.pk:05d}"
        request.save(update_fields=["number"])
        audit("requester", "request.file", request=request, detail=f"{reason}, {len(urls)} URL(s)")
    return request


def notify(request: Request, subject: str, body: str) -> None:
    """Mail the requester (the backend is Django's: SMTP in production, memory in tests)."""
    site = settings.KUAIZHAO_SITE_NAME
    send_mail(f"[{site}] {request.number} {subject}", body, None, [request.email])


def confirm_email(request: Request) -> None:
    if request.email_confirmed_at is not None:
        return
    with transaction.atomic():
        request.email_confirmed_at = timezone.now()
        request.status = Status.PENDING
        request.save(update_fields=["email_confirmed_at", "status"])
        audit("requester", "request.confirm", request=request, detail="contact email confirmed")


def _require(request: Request, *states: str) -> None:
    if request.status not in states:
        raise ActionError(f"request {request.number} is {request.get_status_display()}")


def _image_targets(request: Request) -> list[str]:
    """The images the named articles show or showed in any version: removing a page removes
    its pictures too."""
    keys = [key_for(url) for url in request.url_list()]
    images: list[str] = []
    versions = ArticleVersion.objects.filter(article__surt__in=keys)
    for shown in versions.values_list("images", flat=True):
        for image in shown:
            src = image.get("src") if isinstance(image, dict) else None
            if isinstance(src, str) and src.startswith(("http://", "https://")):
                images.append(src)
    return sorted(set(images))


def approve(
    request: Request,
    *,
    actor: str,
    verb: str,
    note: str = "",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> list[Rule]:
    """Apply the request: one rule per URL (or one for the prefix), and for single pages
    one rule per image they show."""
    _require(request, Status.PENDING, Status.INFO)
    if verb not in ("exclude", "block"):
        raise ActionError("a request is approved with exclude or block")
    made: list[Rule] = []
    with transaction.atomic():
        exact = request.scope == "urls"
        targets = request.url_list() + (_image_targets(request) if exact else [])
        for target in targets:
            made.append(
                apply_rule(
                    target,
                    verb,
                    actor=actor,
                    reason=request.reason,
                    note=note,
                    exact=exact,
                    request=request,
                    starts_at=starts_at,
                    ends_at=ends_at,
                )
            )
        request.status = Status.APPROVED
        request.verb = verb
        request.decision = note
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "verb", "decision", "decided_at"])
        audit(actor, "request.approve", request=request, detail=f"{verb}: {note}".strip(": "))
    notify(request, "已批准", f"您的删除请求已批准，相关快照已{_verb_text(verb)}。\n\n{note}")
    return made


def _verb_text(verb: str) -> str:
    return "移除" if verb == "exclude" else "停止公开"


def reject(request: Request, *, actor: str, why: str) -> None:
    _require(request, Status.PENDING, Status.INFO)
    if not why.strip():
        raise ActionError("a rejection needs a reason the requester can read")
    with transaction.atomic():
        request.status = Status.REJECTED
        request.decision = why
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "decision", "decided_at"])
        audit(actor, "request.reject", request=request, detail=why)
    notify(request, "已驳回", f"您的删除请求未获批准，理由如下：\n\n{why}")


def ask_information(request: Request, *, actor: str, what: str) -> None:
    _require(request, Status.PENDING, Status.INFO)
    if not what.strip():
        raise ActionError("say what information is missing")
    with transaction.atomic():
        request.status = Status.INFO
        request.decision = what
        request.save(update_fields=["status", "decision"])
        audit(actor, "request.ask", request=request, detail=what)
    notify(request, "需要补充材料", f"处理您的删除请求还需要以下材料：\n\n{what}")


def add_information(request: Request, text: str) -> None:
    _require(request, Status.INFO)
    with transaction.atomic():
        request.proof = f"{request.proof}\n\n[{timezone.now():%Y-%m-%d %H:%M}] {text}"
        request.status = Status.PENDING
        request.save(update_fields=["proof", "status"])
        audit("requester", "request.reply", request=request, detail="more information given")


# Enough for every party to a dispute; a bound so that the review page stays readable.
MAX_COUNTER_NOTICES = 20


def counter_notice(request: Request, *, name: str, email: str, text: str) -> None:
    """The outlet (or whoever published the page) disputes an approved removal."""
    _require(request, Status.APPROVED)
    if request.counter_notices.count() >= MAX_COUNTER_NOTICES:
        raise ActionError(f"此请求已收到 {MAX_COUNTER_NOTICES} 份异议，请通过透明度页面联系我们")
    with transaction.atomic():
        notice = request.counter_notices.create(name=name, email=email, text=text)
        request.counter_notice_at = notice.filed_at
        request.save(update_fields=["counter_notice_at"])
        audit("counter-notice", "request.counter", request=request, detail=f"filed by {name}")


def restore(request: Request, *, actor: str, why: str) -> int:
    """Undo an approval: revoke every rule the request made; returns how many."""
    _require(request, Status.APPROVED)
    if not why.strip():
        raise ActionError("say why the pages are restored")
    with transaction.atomic():
        rules = list(request.rules.filter(revoked_at__isnull=True))
        for rule in rules:
            revoke_rule(rule, actor=actor, why=why)
        request.status = Status.RESTORED
        request.decision = why
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "decision", "decided_at"])
        audit(actor, "request.restore", request=request, detail=why)
    notify(request, "已恢复", f"您的删除请求所涉快照已恢复公开，理由如下：\n\n{why}")
    return len(rules)
