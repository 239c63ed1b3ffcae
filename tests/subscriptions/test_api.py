"""The JSON API of follows and matches, with tokens made on the command line."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from kuaizhao.subscriptions.models import Follow
from tests.subscriptions.conftest import page

pytestmark = pytest.mark.django_db
RAIL = "城际铁路今天正式开通运营，沿线市民出行更加方便快捷。"


def token_for(email: str) -> str:
    out = io.StringIO()
    call_command("users", "create", email, "--token", stdout=out)
    return out.getvalue().strip()


def api(client: Client, token: str, method: str, path: str, body: Any = None) -> Any:
    call = getattr(client, method)
    kwargs: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if body is not None:
        kwargs.update(data=body, content_type="application/json")
    return call(f"/api{path}", **kwargs)


def test_follows_and_feed_through_the_api(client: Client, publish: Any) -> None:
    alice, bob = token_for("alice@example.org"), token_for("bob@example.org")
    assert alice.startswith("kz_") and alice != bob

    made = api(client, alice, "post", "/follows", {"kind": "query", "value": "铁路 开通"})
    assert made.status_code == 201, made.content
    again = api(client, alice, "post", "/follows", {"kind": "query", "value": "铁路  开通"})
    assert again.status_code == 200 and again.json()["id"] == made.json()["id"]
    late = {"kind": "query", "value": "铁路 before:9999-12-31"}
    assert api(client, alice, "post", "/follows", late).status_code == 201
    bad = api(client, alice, "post", "/follows", {"kind": "query", "value": "-只有排除"})
    assert bad.status_code == 400 and bad.json()["detail"]
    assert api(client, alice, "post", "/follows", {"kind": "nope", "value": "x"}).status_code == 400
    assert (
        api(client, bob, "post", "/follows", {"kind": "category", "value": "guoji"}).status_code
        == 201
    )

    publish([page(1, "城际铁路开通", RAIL)])
    feed = api(client, alice, "get", "/me/feed").json()["matches"]
    assert [m["article"]["title"] for m in feed] == ["城际铁路开通"]
    assert feed[0]["link"].startswith("http://testserver/s/")
    assert api(client, bob, "get", "/me/feed").json()["matches"] == []

    listed = api(client, bob, "get", "/follows").json()["follows"]
    assert [f["value"] for f in listed] == ["国际"]
    mine = made.json()["id"]
    assert api(client, bob, "delete", f"/follows/{mine}").status_code == 404
    assert api(client, alice, "delete", f"/follows/{mine}").status_code == 204
    assert not Follow.objects.filter(id=mine).exists()


def test_a_taken_down_story_cannot_be_followed(client: Client, publish: Any) -> None:
    """Following by id must not name an article the takedown rules hide."""
    from kuaizhao.takedown import actions

    hidden, shown = publish([page(1, "城际铁路开通", RAIL), page(2, "另一条新闻", RAIL[::-1])])
    actions.apply_rule(hidden.url, "exclude", actor="cli:ops", exact=True, note="test")
    alice = token_for("alice@example.org")

    refused = api(client, alice, "post", "/follows", {"kind": "story", "value": str(hidden.id)})
    assert refused.status_code == 400 and "城际铁路开通" not in refused.content.decode()
    assert not Follow.objects.filter(kind="story").exists()
    made = api(client, alice, "post", "/follows", {"kind": "story", "value": str(shown.id)})
    assert made.status_code == 201 and made.json()["label"] == "另一条新闻"


def test_no_token_no_access(client: Client) -> None:
    assert client.get("/api/follows").status_code == 401
    assert client.get("/api/me/feed", HTTP_AUTHORIZATION="Bearer kz_wrong").status_code == 401


def test_the_command_line_prints_a_token(tmp_path: Path) -> None:
    env = {**os.environ, "KUAIZHAO_HOME": str(tmp_path), "KUAIZHAO_DATABASE_URL": ""}
    result = subprocess.run(
        [sys.executable, "-m", "kuaizhao", "users", "create", "ops@example.org", "--token"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("kz_") and len(result.stdout.strip()) > 30
