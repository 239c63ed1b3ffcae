"""Telling readers: email digests and signed webhooks, sent by ``deliver``.

``deliver`` runs after every ingest of the crawl loop and as ``kuaizhao manage deliver``.
A digest goes to a confirmed address only, at the reader's rhythm (immediately, hourly or
daily), with every match not mailed yet. A webhook gets the matches not pushed yet as one
JSON POST, signed::

    X-Kuaizhao-Timestamp: 1700000000
    X-Kuaizhao-Signature: sha256=<hex HMAC-SHA256(secret, "1700000000." + body)>

and retried with doubling delays (``BACKOFF`` × 2ⁿ) until it is answered with a 2xx or
``MAX_ATTEMPTS`` tries failed. Only what takedown rules let through is sent.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from kuaizhao.archive.models import Article
from kuaizhao.subscriptions.matching import visible
from kuaizhao.subscriptions.models import Match, Profile, WebhookDelivery

log = logging.getLogger(__name__)

RHYTHM = {
    "immediate": timedelta(0),
    "hourly": timedelta(hours=1),
    "daily": timedelta(days=1),
}
DIGEST_SIZE = 50
PUSH_SIZE = 100
MAX_ATTEMPTS = 6
BACKOFF = timedelta(seconds=30)
TIMEOUT = 10
SIGNATURE_HEADER = "X-Kuaizhao-Signature"
TIMESTAMP_HEADER = "X-Kuaizhao-Timestamp"


class WebhookRefused(ValueError):
    """The webhook address may not be called (scheme, or a private network address)."""


@dataclass
class Delivered:
    emails: int = 0
    queued: int = 0
    pushed: int = 0
    failed: int = 0


def absolute(path: str) -> str:
    return str(settings.KUAIZHAO_SITE_URL).rstrip("/") + path


def pending(user: Any, flag: str) -> QuerySet[Match]:
    shown = visible(Article.objects.all()).values("id")
    return (
        Match.objects.filter(user=user, article_id__in=shown, **{flag: False})
        .select_related("article", "article__outlet")
        .order_by("-created_at", "-id")
    )


def link(match: Match) -> str:
    name = "version-diff" if match.kind == "edit" else "snapshot"
    return absolute(reverse(name, args=[match.article_id]))


def as_json(match: Match) -> dict[str, Any]:
    article = match.article
    return {
        "id": match.id,
        "kind": match.kind,
        "story": match.story,
        "follow": match.follow_id,
        "matched_at": match.created_at.isoformat(),
        "read": match.read,
        "article": {
            "id": article.id,
            "title": article.title,
            "url": article.url,
            "outlet": article.outlet.name if article.outlet else "",
            "category": article.category,
            "published_at": article.published_at.isoformat() if article.published_at else None,
            "snapshot": absolute(reverse("snapshot", args=[article.id])),
        },
        "link": link(match),
    }


# -- email -------------------------------------------------------------------------------------
def due(profile: Profile, now: datetime) -> bool:
    rhythm = RHYTHM.get(profile.digest)
    if rhythm is None:
        return False
    return profile.last_digest_at is None or now - profile.last_digest_at >= rhythm


def send_digests(now: datetime | None = None) -> int:
    """Mail every due reader the matches not mailed yet; returns how many emails went out."""
    now = now or timezone.now()
    sent = 0
    profiles = (
        Profile.objects.filter(email_confirmed=True, user__is_active=True)
        .exclude(digest="off")
        .exclude(user__email="")
        .select_related("user")
    )
    connection = None
    for profile in profiles:
        if not due(profile, now):
            continue
        matches = list(pending(profile.user, "emailed")[:DIGEST_SIZE])
        if not matches:
            continue
        ids = [m.id for m in matches]
        if not Match.objects.filter(id__in=ids, emailed=False).update(emailed=True):
            continue  # another process took them
        context = {
            "user": profile.user,
            "entries": [(m, link(m)) for m in matches],
            "site_name": settings.KUAIZHAO_SITE_NAME,
            "home": absolute(reverse("subscriptions")),
        }
        message = EmailMultiAlternatives(
            f"我的订阅：{len(matches)} 条新内容 · {settings.KUAIZHAO_SITE_NAME}",
            render_to_string("subscriptions/email/digest.txt", context),
            to=[profile.user.email],
        )
        message.attach_alternative(
            render_to_string("subscriptions/email/digest.html", context), "text/html"
        )
        connection = connection or get_connection()
        try:
            message.connection = connection
            message.send()
        except Exception:
            Match.objects.filter(id__in=ids).update(emailed=False)
            log.exception("digest to %s failed; it is sent again next time", profile.user.email)
            continue
        Profile.objects.filter(id=profile.id).update(last_digest_at=now)
        sent += 1
    return sent


# -- webhooks ----------------------------------------------------------------------------------
def check_webhook_url(url: str) -> None:
    """Refuse what a server should not call on a reader's behalf."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused("Webhook 地址须以 http:// 或 https:// 开头")
    if settings.KUAIZHAO_WEBHOOK_PRIVATE:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise WebhookRefused("Webhook 地址的主机名无法解析") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            raise WebhookRefused("Webhook 地址不能指向内网或本机")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def queue_webhooks(now: datetime | None = None) -> int:
    """One delivery per reader with a webhook and matches not pushed yet."""
    now = now or timezone.now()
    queued = 0
    for profile in Profile.objects.exclude(webhook_url="").select_related("user"):
        matches = list(pending(profile.user, "pushed")[:PUSH_SIZE])
        if not matches:
            continue
        ids = [m.id for m in matches]
        if not Match.objects.filter(id__in=ids, pushed=False).update(pushed=True):
            continue
        body = json.dumps({"matches": [as_json(m) for m in matches]}, ensure_ascii=False)
        WebhookDelivery.objects.create(
            user=profile.user, url=profile.webhook_url, body=body, next_attempt_at=now
        )
        queued += 1
    return queued


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def attempt(delivery: WebhookDelivery, now: datetime | None = None) -> bool:
    """One try at a delivery; on failure the next one is scheduled (or it is given up)."""
    now = now or timezone.now()
    secret = Profile.objects.filter(user_id=delivery.user_id).values_list(
        "webhook_secret", flat=True
    )
    body = delivery.body.encode()
    stamp = int(time.time())
    error = ""
    try:
        check_webhook_url(delivery.url)
        request = urllib.request.Request(
            delivery.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": str(settings.KUAIZHAO_SITE_NAME) + " webhook",
                TIMESTAMP_HEADER: str(stamp),
                SIGNATURE_HEADER: sign(secret.first() or "", stamp, body),
            },
        )
        opener = urllib.request.build_opener(_NoRedirects)
        with opener.open(request, timeout=TIMEOUT) as response:
            status = response.status
        if 200 <= status < 300:
            delivery.attempts += 1
            delivery.delivered_at = now
            delivery.last_error = ""
            delivery.save()
            return True
        error = f"HTTP {status}"
    except urllib.error.HTTPError as exc:
        error = f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, WebhookRefused) as exc:
        error = str(exc)
    delivery.attempts += 1
    delivery.last_error = error[:1000]
    if delivery.attempts >= MAX_ATTEMPTS:
        delivery.failed = True
    else:
        delivery.next_attempt_at = now + BACKOFF * 2 ** (delivery.attempts - 1)
    delivery.save()
    return False


def push_webhooks(now: datetime | None = None) -> tuple[int, int]:
    """Try every delivery that is due; (delivered, failed for now)."""
    now = now or timezone.now()
    ok = failed = 0
    due_now = WebhookDelivery.objects.filter(
        delivered_at__isnull=True, failed=False, next_attempt_at__lte=now
    ).order_by("next_attempt_at", "id")
    for delivery in due_now[:200]:
        if attempt(delivery, now):
            ok += 1
        else:
            failed += 1
    return ok, failed


def deliver(now: datetime | None = None) -> Delivered:
    """Everything due: digests, new webhook deliveries and retries."""
    now = now or timezone.now()
    result = Delivered(emails=send_digests(now), queued=queue_webhooks(now))
    result.pushed, result.failed = push_webhooks(now)
    return result
