"""The 关注 button on category, outlet, search and snapshot pages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from kuaizhao.subscriptions.models import Follow
from tests.subscriptions.conftest import page

pytestmark = pytest.mark.django_db
RAIL = "城际铁路今天正式开通运营，沿线市民出行更加方便快捷。"


def form_fields(html: str) -> dict[str, str]:
    form = re.search(r'<div class="follow-button"><form.*?</form>', html, re.S)
    assert form, "no follow button"
    return dict(re.findall(r'name="(kind|value|next)" value="([^"]*)"', form.group(0)))


def test_each_page_follows_what_it_shows(client: Client, publish: Any) -> None:
    article = publish([page(1, "城际铁路开通", RAIL)])[0]
    anonymous = client.get(f"/s/{article.id}").content.decode()
    assert f'href="/account/login?next=/s/{article.id}"' in anonymous

    alice = User.objects.create_user("alice@example.org", "alice@example.org", "pw-alice-1")
    client.force_login(alice)
    pages = {
        "/c/guonei/": ("category", "guonei"),
        "/o/testdaily/": ("outlet", "testdaily"),
        f"/s/{article.id}": ("story", str(article.id)),
        "/search?q=铁路&category=guonei&after=2024-01-01": (
            "query",
            "铁路 category:guonei after:2024-01-01",
        ),
    }
    for path, (kind, value) in pages.items():
        fields = form_fields(client.get(path).content.decode())
        assert (fields["kind"], fields["value"]) == (kind, value), path
        response = client.post("/subscriptions/follow", fields)
        assert response.status_code == 302 and response["Location"] == fields["next"]
        assert "已关注" in client.get("/c/guonei/").content.decode() or kind != "category"
    assert sorted(Follow.objects.values_list("kind", "value")) == [
        ("category", "国内"),
        ("outlet", "testdaily"),
        ("query", "铁路 category:guonei after:2024-01-01"),
        ("story", str(article.id)),
    ]
