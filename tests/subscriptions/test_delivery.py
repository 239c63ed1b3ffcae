"""Delivery: digests through a real SMTP server, Atom feeds read by feedparser, webhooks
received by a real HTTP server, and nothing sent to an address nobody confirmed."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import feedparser
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from kuaizhao.subscriptions import delivery, follows
from kuaizhao.subscriptions.models import Match, Profile, WebhookDelivery
from tests.subscriptions.conftest import Mailbox, page

pytestmark = pytest.mark.django_db

RAIL = "城际铁路今天正式开通运营，沿线市民出行更加方便快捷。"
FLIGHT = "多条国际航线本周恢复运营，旅客出行更加便利。"


def reader(name: str, *, confirmed: bool = True, digest: str = "immediate") -> User:
    user = User.objects.create_user(f"{name}@example.org", f"{name}@example.org", f"pw-{name}-1")
    Profile.objects.create(user=user, email_confirmed=confirmed, digest=digest)
    return user


def test_digests_go_by_smtp_to_confirmed_addresses_at_their_rhythm(
    publish: Any, mailbox: Mailbox
) -> None:
    alice, bob = reader("alice"), reader("bob", confirmed=False)
    charlie = reader("charlie", digest="daily")
    for user in (alice, bob, charlie):
        follows.create(user, "query", "开通")
    Profile.objects.filter(user=charlie).update(last_digest_at=timezone.now())
    article = publish([page(1, "城际铁路开通", RAIL)])[0]

    assert delivery.send_digests() == 1
    [message] = mailbox.messages
    assert message["To"] == "alice@example.org"
    text = Mailbox.text(message)
    assert "城际铁路开通" in text and f"http://testserver/s/{article.id}" in text
    html = message.get_body(preferencelist=("html",))
    assert html is not None and "城际铁路开通" in html.get_content()
    assert delivery.send_digests() == 0  # nothing new: nothing sent again

    later = timezone.now() + timedelta(days=1, minutes=1)
    assert delivery.send_digests(later) == 1  # charlie's day has come
    assert [m["To"] for m in mailbox.messages] == ["alice@example.org", "charlie@example.org"]
    assert not mailbox.to("bob@example.org")


def test_an_edit_alert_mails_the_diff_link(publish: Any, mailbox: Mailbox) -> None:
    alice = reader("alice")
    article = publish([page(1, "城际铁路开通", RAIL)])[0]
    follows.create(alice, "story", str(article.id))
    from datetime import UTC, datetime

    publish([page(1, "城际铁路开通（更新）", RAIL)], datetime(2024, 3, 7, tzinfo=UTC))
    delivery.deliver()
    text = Mailbox.text(mailbox.to("alice@example.org")[0])
    assert "【内容修改】" in text and f"http://testserver/s/{article.id}/diff" in text


def test_private_feeds_are_valid_atom_and_their_tokens_can_be_replaced(
    publish: Any, client: Client
) -> None:
    alice = reader("alice")
    rail, _ = follows.create(alice, "query", "铁路")
    follows.create(alice, "category", "guoji")
    publish([page(1, "城际铁路开通", RAIL), page(3, "航线恢复", FLIGHT, section="gj")])
    token = Profile.objects.get(user=alice).feed_token

    response = client.get(f"/subscriptions/feed/{token}.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert {e.title for e in feed.entries} == {"城际铁路开通", "航线恢复"}
    assert all(e.link.startswith("http://testserver/s/") for e in feed.entries)

    one = feedparser.parse(client.get(f"/subscriptions/follow-feed/{rail.feed_token}.atom").content)
    assert not one.bozo and [e.title for e in one.entries] == ["城际铁路开通"]
    # a story goes on record once, under the first follow that matched; the feed of another
    # follow that matches it lists it too
    later, _ = follows.create(alice, "query", "开通")
    both = feedparser.parse(
        client.get(f"/subscriptions/follow-feed/{later.feed_token}.atom").content
    )
    assert [e.title for e in both.entries] == ["城际铁路开通"]

    client.force_login(alice)
    client.post("/subscriptions/feed-token")
    assert client.get(f"/subscriptions/feed/{token}.atom").status_code == 404
    fresh = Profile.objects.get(user=alice).feed_token
    assert fresh != token and client.get(f"/subscriptions/feed/{fresh}.atom").status_code == 200
    client.post("/subscriptions/feed-token", {"follow": str(rail.id)})
    assert client.get(f"/subscriptions/follow-feed/{rail.feed_token}.atom").status_code == 404


class Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]]
    failures: list[int]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = self.failures.pop(0) if self.failures else 200
        if status == 200:
            self.received.append((dict(self.headers), body))
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[Receiver]]]:
    handler = type("Handler", (Receiver,), {"received": [], "failures": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    server.shutdown()
    server.server_close()


def test_webhooks_are_signed_and_retried_with_backoff(publish: Any, receiver: Any) -> None:
    url, handler = receiver
    handler.failures.extend([500, 503])
    alice = reader("alice", digest="off")
    Profile.objects.filter(user=alice).update(webhook_url=url)
    follows.create(alice, "query", "铁路")
    article = publish([page(1, "城际铁路开通", RAIL)])[0]

    now = timezone.now()
    first = delivery.deliver(now)
    assert (first.queued, first.pushed, first.failed) == (1, 0, 1)
    row = WebhookDelivery.objects.get()
    assert row.attempts == 1 and row.next_attempt_at == now + delivery.BACKOFF
    assert delivery.deliver(now + timedelta(seconds=1)).pushed == 0  # not due yet
    second = delivery.deliver(now + delivery.BACKOFF)
    assert second.failed == 1
    row.refresh_from_db()
    assert row.next_attempt_at == now + delivery.BACKOFF + delivery.BACKOFF * 2
    assert delivery.deliver(row.next_attempt_at).pushed == 1

    [(headers, body)] = handler.received
    secret = Profile.objects.get(user=alice).webhook_secret
    stamp = headers["X-Kuaizhao-Timestamp"]
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    assert headers["X-Kuaizhao-Signature"] == "sha256=" + expected.hexdigest()
    payload = json.loads(body)
    assert [m["article"]["id"] for m in payload["matches"]] == [article.id]
    assert Match.objects.get().pushed
    assert delivery.deliver(now + timedelta(hours=1)).queued == 0


def test_webhooks_to_private_addresses_are_refused_unless_allowed(settings: Any) -> None:
    settings.KUAIZHAO_WEBHOOK_PRIVATE = False
    for url in (
        "http://127.0.0.1:9/x",
        "http://[::1]/x",
        "ftp://example.org/",
        "http://10.1.2.3/",
        "http://example.org:99999/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://[64:ff9b::7f00:1]/x",
        "http://[2002:7f00:1::1]/x",
        "http://[::127.0.0.1]/x",
    ):
        with pytest.raises(delivery.WebhookRefused):
            delivery.check_webhook_url(url)


def test_a_webhook_goes_to_the_address_that_was_checked(
    publish: Any, receiver: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name answers a public address when checked, then an internal one.
    Here 127.0.0.1 stands for the public address and 127.0.0.2 for the internal service."""
    url, handler = receiver
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    internal = type("Internal", (Receiver,), {"received": [], "failures": []})
    server = ThreadingHTTPServer(("127.0.0.2", port), internal)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    answers = iter(["127.0.0.1"] + ["127.0.0.2"] * 9)

    def rebinding(host: str, *args: Any, **kwargs: Any) -> Any:
        assert host == "hook.test.example"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    settings.KUAIZHAO_WEBHOOK_PRIVATE = False
    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(delivery, "_global", lambda address: str(address) == "127.0.0.1")
    alice = reader("alice", digest="off")
    hook = f"http://hook.test.example:{port}/hook"
    Profile.objects.filter(user=alice).update(webhook_url=hook)
    follows.create(alice, "query", "铁路")
    publish([page(1, "城际铁路开通", RAIL)])
    try:
        result = delivery.deliver()
    finally:
        server.shutdown()
        server.server_close()
    assert internal.received == []
    assert (result.pushed, len(handler.received)) == (1, 1)
    assert handler.received[0][0]["Host"] == f"hook.test.example:{port}"


@pytest.mark.django_db(transaction=True)  # each batch commits, as in a crawl
def test_the_crawl_loop_mails_what_its_ingest_matched(
    home: Any, outlet: Any, mailbox: Mailbox
) -> None:
    from django.core.management import call_command

    from kuaizhao.cli import _ingest_quietly
    from tests.factories import write_warc

    alice = reader("alice")
    follows.create(alice, "query", "铁路")
    write_warc(home / "warc", [page(1, "城际铁路开通", RAIL)])
    line = _ingest_quietly([outlet])
    assert "1 new articles" in line and "1 digests mailed" in line
    assert [m["To"] for m in mailbox.messages] == ["alice@example.org"]
    out = io.StringIO()
    call_command("deliver", stdout=out)
    assert out.getvalue().startswith("0 digests mailed")
