"""Accounts: sign-up with address confirmation, password reset by email, CSRF on every form,
rate limits, and alice, bob and charlie never seeing each other's follows or feeds."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from kuaizhao.subscriptions import delivery, follows
from kuaizhao.subscriptions.accounts import LOGIN_FAILURES_PER_ACCOUNT, SIGNUPS_PER_ADDRESS
from kuaizhao.subscriptions.models import Follow, Match, Profile
from tests.subscriptions.conftest import Mailbox, page

pytestmark = pytest.mark.django_db
RAIL = "城际铁路今天正式开通运营，沿线市民出行更加方便快捷。"


def link_in(text: str) -> str:
    found = re.search(r"http://testserver(/\S+)", text)
    assert found, text
    return found.group(1)


def sign_up(client: Client, email: str, password: str = "correct horse 1") -> Any:
    return client.post(
        "/account/signup", {"email": email, "password1": password, "password2": password}
    )


def test_sign_up_confirms_the_address_before_any_digest(
    client: Client, mailbox: Mailbox, publish: Any
) -> None:
    response = sign_up(client, "Alice@Example.org")
    assert response.status_code == 302 and response["Location"] == "/subscriptions"
    user = User.objects.get(username="alice@example.org")
    [confirmation] = mailbox.to("alice@example.org")
    assert not Profile.objects.get(user=user).email_confirmed

    Profile.objects.filter(user=user).update(digest="immediate")
    client.post("/subscriptions/follow", {"kind": "query", "value": "铁路"})
    publish([page(1, "城际铁路开通", RAIL)])
    assert delivery.send_digests() == 0 and len(mailbox.messages) == 1  # unconfirmed

    assert client.get(link_in(Mailbox.text(confirmation))).status_code == 200
    assert Profile.objects.get(user=user).email_confirmed
    assert delivery.send_digests() == 1
    assert "城际铁路开通" in Mailbox.text(mailbox.messages[-1])
    assert client.get("/account/confirm/not-a-token").status_code == 400


def test_password_reset_by_email(client: Client, mailbox: Mailbox) -> None:
    User.objects.create_user("bob@example.org", "bob@example.org", "old password 1")
    client.post("/account/password-reset", {"email": "bob@example.org"})
    [mail] = mailbox.to("bob@example.org")
    form = client.get(link_in(Mailbox.text(mail)), follow=True)
    assert form.status_code == 200 and "设置新密码" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "new password 22", "new_password2": "new password 22"},
    )
    assert done.status_code == 302
    assert client.login(username="bob@example.org", password="new password 22")
    assert Profile.objects.get(user__username="bob@example.org").email_confirmed


FORMS = [
    ("/account/login", {"username": "alice@example.org", "password": "pw-alice-1"}),
    (
        "/account/signup",
        {"email": "x@example.org", "password1": "abcdefgh1", "password2": "abcdefgh1"},
    ),
    ("/account/password-reset", {"email": "alice@example.org"}),
    ("/subscriptions/follow", {"kind": "category", "value": "guonei"}),
    ("/subscriptions/read", {}),
    ("/subscriptions/settings", {"digest": "daily"}),
    ("/subscriptions/feed-token", {}),
    ("/subscriptions/api-token", {}),
    ("/subscriptions/api-token/revoke", {}),
    ("/subscriptions/webhook-secret", {}),
    ("/account/confirm-again", {}),
    ("/account/logout", {}),
]


@pytest.mark.parametrize(("path", "data"), FORMS)
def test_every_form_needs_its_csrf_token(path: str, data: dict[str, str]) -> None:
    alice = User.objects.create_user("alice@example.org", "alice@example.org", "pw-alice-1")
    client = Client(enforce_csrf_checks=True)
    on_its_own_page = path.startswith(("/account/login", "/account/signup", "/account/password"))
    if not on_its_own_page:
        client.force_login(alice)
    assert client.post(path, data).status_code == 403
    client.get(path if on_its_own_page else "/subscriptions")
    token = client.cookies["csrftoken"].value
    assert client.post(path, {**data, "csrfmiddlewaretoken": token}).status_code in (200, 302)


def test_logging_in_is_rate_limited_per_account_and_address(client: Client) -> None:
    User.objects.create_user("alice@example.org", "alice@example.org", "pw-alice-1")
    for _ in range(LOGIN_FAILURES_PER_ACCOUNT):
        wrong = client.post("/account/login", {"username": "alice@example.org", "password": "x"})
        assert wrong.status_code == 200
    right = {"username": "alice@example.org", "password": "pw-alice-1"}
    limited = client.post("/account/login", right)
    assert limited.status_code == 429 and "尝试次数过多" in limited.content.decode()
    assert "_auth_user_id" not in client.session
    # Someone failing on purpose elsewhere does not lock the owner out.
    owner = Client(REMOTE_ADDR="10.0.0.9")
    assert owner.post("/account/login", right).status_code == 302


def test_signing_up_is_rate_limited_per_address(client: Client) -> None:
    for n in range(SIGNUPS_PER_ADDRESS):
        assert sign_up(client, f"user{n}@example.org").status_code == 302
        client.logout()
    assert sign_up(client, "one-more@example.org").status_code == 429
    assert not User.objects.filter(username="one-more@example.org").exists()


def test_alice_bob_and_charlie_see_only_their_own(publish: Any) -> None:
    people = {
        name: User.objects.create_user(f"{name}@example.org", f"{name}@example.org", "pw-12345")
        for name in ("alice", "bob", "charlie")
    }
    for user in people.values():
        Profile.objects.create(user=user)
    mine = {
        "alice": follows.create(people["alice"], "query", "铁路")[0],
        "bob": follows.create(people["bob"], "query", "开通 运营")[0],
        "charlie": follows.create(people["charlie"], "category", "guoji")[0],
    }
    publish([page(1, "城际铁路开通", RAIL)])
    assert Match.objects.filter(user=people["charlie"]).count() == 0
    for name, user in people.items():
        client = Client()
        client.force_login(user)
        html = client.get("/subscriptions").content.decode()
        for other, follow in mine.items():
            assert (str(follow) in html) == (other == name or str(follow) == str(mine[name]))
            assert (follow.feed_token in html) == (other == name)
        own_feed = Profile.objects.get(user=user).feed_token
        for other in people.values():
            if other != user:
                assert Profile.objects.get(user=other).feed_token not in html
        for other, follow in mine.items():
            if other != name:
                deleted = client.post(f"/subscriptions/follows/{follow.id}/delete")
                assert deleted.status_code == 404
                theirs = Match.objects.filter(user=follow.user).first()
                if theirs is not None:
                    assert client.get(f"/subscriptions/m/{theirs.id}").status_code == 404
        assert own_feed in html
    assert Follow.objects.count() == 3


def test_bad_input_is_a_clear_answer_never_a_500(client: Client) -> None:
    alice = User.objects.create_user("alice@example.org", "alice@example.org", "pw-alice-1")
    client.force_login(alice)
    huge = "9" * 30
    assert client.post(f"/subscriptions/follows/{huge}/delete").status_code == 404
    assert client.get(f"/subscriptions/m/{huge}").status_code == 404
    token = Profile.objects.get_or_create(user=alice)[0].feed_token
    for bad in (huge, "abc", "12"):
        assert client.post("/subscriptions/feed-token", {"follow": bad}).status_code == 404
    assert Profile.objects.get(user=alice).feed_token == token
    for kind, value in [
        ("story", huge),
        ("query", "词" * 300),
        ("query", "-只排除"),
        ("category", "不存在"),
        ("outlet", "nowhere"),
        ("nonsense", "x"),
    ]:
        response = client.post("/subscriptions/follow", {"kind": kind, "value": value}, follow=True)
        assert response.status_code == 200
        assert "无法关注" in response.content.decode()
    assert not Follow.objects.exists()
    assert client.get("/subscriptions/feed/nope.atom").status_code == 404
    assert client.post("/subscriptions/settings", {"digest": "weekly"}).status_code == 302
    assert Profile.objects.get(user=alice).digest == "daily"
