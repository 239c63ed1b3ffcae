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
import http.client
import ipaddress
import json
import logging
import socket
import time
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
def _parts(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a webhook address, or WebhookRefused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookRefused("Webhook 地址无效") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused("Webhook 地址须以 http:// 或 https:// 开头")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


Address = tuple[socket.AddressFamily, Any]


def _resolve(host: str, port: int) -> list[Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise WebhookRefused("Webhook 地址的主机名无法解析") from None
    return [(info[0], info[4]) for info in infos]


def _refuse_private(addresses: list[Address]) -> None:
    for _, sockaddr in addresses:
        if not _global(ipaddress.ip_address(str(sockaddr[0]).split("%")[0])):
            raise WebhookRefused("Webhook 地址不能指向内网或本机")


def check_webhook_url(url: str) -> None:
    """Refuse what a server should not call on a reader's behalf."""
    _, host, port = _parts(url)
    if not settings.KUAIZHAO_WEBHOOK_PRIVATE:
        _refuse_private(_resolve(host, port))


def webhook_addresses(url: str) -> list[Address]:
    """The checked addresses to connect to: looking the name up again when connecting would
    let a DNS server answer a public address for the check and an internal one after it."""
    _, host, port = _parts(url)
    addresses = _resolve(host, port)
    if not settings.KUAIZHAO_WEBHOOK_PRIVATE:
        _refuse_private(addresses)
    return addresses


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _global(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """``is_global``, also for the IPv4 address an IPv6 one carries (mapped, 6to4, NAT64,
    compatible), which ``ipaddress`` counts as global whatever it is."""
    if isinstance(address, ipaddress.IPv6Address):
        packed = int(address)
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and (address in _NAT64 or packed >> 32 == 0):
            embedded = ipaddress.IPv4Address(packed & 0xFFFFFFFF)
        if embedded is not None and not embedded.is_global:
            return False
    return address.is_global


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


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to given addresses, not to what the host name resolves to now.
    It follows no redirect, so a webhook cannot be bounced to an internal address either."""

    addresses: list[Address]

    def connect(self) -> None:
        error: OSError = OSError("Webhook 地址没有可连接的地址")
        for family, sockaddr in self.addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(self.timeout)
                sock.connect(sockaddr)
            except OSError as exc:
                sock.close()
                error = exc
                continue
            self.sock = sock
            return
        raise error


class _PinnedHTTPS(http.client.HTTPSConnection, _PinnedHTTP):
    """TLS on top of ``_PinnedHTTP.connect``, the certificate checked against the host name."""


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    scheme, host, port = _parts(url)
    addresses = webhook_addresses(url)
    kind = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    connection = kind(host.encode("idna").decode("ascii"), port, timeout=TIMEOUT)
    connection.addresses = addresses
    try:
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", path, body=body, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


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
        status = _post(
            delivery.url,
            body,
            {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": str(settings.KUAIZHAO_SITE_NAME) + " webhook",
                TIMESTAMP_HEADER: str(stamp),
                SIGNATURE_HEADER: sign(secret.first() or "", stamp, body),
            },
        )
        if 200 <= status < 300:
            delivery.attempts += 1
            delivery.delivered_at = now
            delivery.last_error = ""
            delivery.save()
            return True
        error = f"HTTP {status}"
    except (OSError, ValueError, http.client.HTTPException) as exc:
        # ValueError: WebhookRefused, or an address http.client cannot send (non-ASCII)
        error = str(exc) or type(exc).__name__
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
