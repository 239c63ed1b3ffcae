"""Every verb × every public surface: before the rule, once it applies, after it is undone.

``exclude`` and ``block`` go through a real request (filed, confirmed, approved, restored);
``allow`` is an operator's exception to a standing block (applied, then revoked). In each
phase the target article (and its image) is ``shown``, ``gone`` (404, absent everywhere, as if
never archived) or ``blocked`` (451 naming the request, absent from every list).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from warcio.archiveiterator import ArchiveIterator

from kuaizhao.archive import searching
from kuaizhao.archive.models import Article
from kuaizhao.search.query import parse
from kuaizhao.takedown import actions
from kuaizhao.takedown.models import Request, Rule
from tests.takedown.conftest import BASE, ELSEWHERE, IMG, NEIGHBOUR, TARGET, TITLE, TS

pytestmark = pytest.mark.django_db

SHOWN, GONE, BLOCKED = "shown", "gone", "blocked"
PHASES = {
    "exclude": (SHOWN, GONE, SHOWN),
    "block": (SHOWN, BLOCKED, SHOWN),
    "allow": (BLOCKED, SHOWN, BLOCKED),
}


@dataclass
class World:
    client: Client
    articles: dict[str, Article]
    tmp: Path
    reference: str = ""
    references: set[str] = field(default_factory=set)
    rules: list[Rule] = field(default_factory=list)

    @property
    def target(self) -> Article:
        return self.articles[TARGET]

    def get(self, path: str, **params: str) -> tuple[int, str]:
        response = self.client.get(path, params)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        return response.status_code, body.decode("utf-8", "replace")


# --- how each phase is reached ----------------------------------------------------------------


def file_request(verb: str) -> Request:
    request = actions.file_request(
        requester="某某出版社",
        email="legal@example.com",
        scope="urls",
        urls=[TARGET],
        reason="copyright",
        explanation="本社作品，未经授权转载",
        proof="著作权登记证书编号 2024-001",
        client="test",
    )
    actions.confirm_email(request)
    return request


def setup(world: World, verb: str) -> None:
    if verb == "allow":
        for prefix in (f"{BASE}/gn/2024/0301/", "http://img.test.example/2024/"):
            rule = actions.apply_rule(prefix, "block", actor="cli:ops", note="standing block")
            world.references.add(rule.reference)


def apply(world: World, verb: str) -> None:
    if verb == "allow":
        world.rules = [
            actions.apply_rule(url, "allow", actor="cli:ops", exact=True, note="licensed")
            for url in (TARGET, IMG)
        ]
        return
    request = file_request(verb)
    actions.approve(request, actor="staff", verb=verb, note="权属证明充分")
    world.reference = request.number
    world.references = {request.number}


def undo(world: World, verb: str) -> None:
    if verb == "allow":
        for rule in world.rules:
            actions.revoke_rule(rule, actor="cli:ops", why="licence ended")
        return
    request = Request.objects.get(number=world.reference)
    actions.restore(request, actor="staff", why="出版社撤回请求")


# --- the surfaces -----------------------------------------------------------------------------


def single(world: World, path: str, state: str, shown: tuple[int, ...] = (200,)) -> None:
    status, body = world.get(path)
    if state == SHOWN:
        assert status in shown, (path, status)
    elif state == GONE:
        assert status == 404, (path, status)
        assert TITLE not in body
    else:
        assert status == 451, (path, status)
        assert any(ref in body for ref in world.references), body[:300]
        assert TITLE not in body


def listed(world: World, path: str, state: str, marker: str = TITLE, **params: str) -> None:
    status, body = world.get(path, **params)
    assert status == 200, (path, status)
    assert (marker in body) == (state == SHOWN), (path, state)


def cdx_lines(world: World, state: str) -> None:
    for params in ({"url": TARGET}, {"url": f"{BASE}/*"}, {"url": IMG}):
        status, body = world.get("/cdx", **params, output="json")
        assert status == 200
        urls = {json.loads(line)["url"] for line in body.splitlines()}
        assert (TARGET in urls or IMG in urls) == (state == SHOWN), (params, urls)
    if state != SHOWN:  # the rest of the site is untouched
        _, body = world.get("/cdx", url=f"{BASE}/*", output="json")
        assert ELSEWHERE in body and NEIGHBOUR in body


def lookup(world: World, state: str) -> None:
    status, body = world.get("/lookup", url=TARGET)
    if state == BLOCKED:
        assert status == 451 and any(ref in body for ref in world.references)
        return
    assert status == 200
    assert (TITLE in body) == (state == SHOWN)
    assert ("尚未收录" in body) == (state == GONE)


def api_article(world: World, state: str, suffix: str = "") -> None:
    status, body = world.get(f"/api/articles/{world.target.id}{suffix}")
    expected = {SHOWN: 200, GONE: 404, BLOCKED: 451}[state]
    assert status == expected, body[:300]
    if state == BLOCKED:
        assert json.loads(body)["request_number"] in world.references


def api_lookup(world: World, state: str) -> None:
    status, body = world.get("/api/lookup", url=TARGET)
    if state == BLOCKED:
        assert status == 451 and json.loads(body)["request_number"] in world.references
        return
    assert status == 200 and json.loads(body)["captured"] == (state == SHOWN)


def search_index(world: World, state: str) -> None:
    total = searching.search(parse("推进会举行")).total
    assert total == (1 if state == SHOWN else 0)


def export_jsonl(world: World, state: str) -> None:
    out = world.tmp / "export.jsonl"
    call_command("export", jsonl=str(out))
    urls = {json.loads(line)["url"] for line in out.read_text(encoding="utf-8").splitlines()}
    assert (TARGET in urls) == (state == SHOWN)
    assert {NEIGHBOUR, ELSEWHERE} <= urls


def export_warc(world: World, state: str) -> None:
    out = world.tmp / f"export-{len(list(world.tmp.iterdir()))}"
    call_command("export", warc=out)
    uris = set()
    for path in out.glob("*.warc.gz"):
        with path.open("rb") as fh:
            uris |= {r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(fh)}
    assert (TARGET in uris) == (state == SHOWN)
    assert (IMG in uris) == (state == SHOWN)
    assert {NEIGHBOUR, ELSEWHERE} <= uris


def subscription_feed(world: World, state: str) -> None:
    """A reader's private feed of what their follows matched (and so their e-mails)."""
    from django.contrib.auth.models import User

    from kuaizhao.subscriptions.models import Follow, Match, Profile

    user, created = User.objects.get_or_create(username="reader@example.com")
    profile, _ = Profile.objects.get_or_create(user=user)
    if created:
        follow = Follow.objects.create(user=user, kind="query", value="推进会")
        Match.objects.create(
            user=user, follow=follow, article=world.target, story=world.target.pk, key="k"
        )
    listed(world, f"/subscriptions/feed/{profile.feed_token}.atom", state)


def neighbour_page(world: World, state: str) -> None:
    """The related and latest lists on another article's page."""
    listed(world, f"/s/{world.articles[NEIGHBOUR].id}", state)


SURFACES: dict[str, Callable[[World, str], None]] = {
    "snapshot": lambda w, s: single(w, f"/s/{w.target.id}", s),
    "version": lambda w, s: single(w, f"/s/{w.target.id}/v/1", s),
    "diff": lambda w, s: single(w, f"/s/{w.target.id}/diff", s),
    "snapshot json": api_article,
    "version json": lambda w, s: api_article(w, s, "/versions/1"),
    "home": lambda w, s: listed(w, "/", s),
    "category": lambda w, s: listed(w, "/c/guonei/", s),
    "search": lambda w, s: listed(w, "/search", s, marker=f'"/s/{w.target.id}"', q="推进会举行"),
    "search index": search_index,
    "related lists": neighbour_page,
    "outlet page": lambda w, s: listed(w, "/o/testdaily/", s),
    "category feed": lambda w, s: listed(w, "/c/guonei/feed.atom", s),
    "outlet feed": lambda w, s: listed(w, "/o/testdaily/feed.atom", s),
    "sitemap": lambda w, s: listed(w, "/sitemap-articles.xml", s, marker=f"/s/{w.target.id}<"),
    "cdx": cdx_lines,
    "lookup": lookup,
    "memento timegate": lambda w, s: single(w, f"/web/{TARGET}", s, shown=(302,)),
    "memento timemap": lambda w, s: single(w, f"/web/timemap/link/{TARGET}", s),
    "web captures": lambda w, s: single(w, f"/web/*/{TARGET}", s),
    "web memento": lambda w, s: single(w, f"/web/{TS}/{TARGET}", s),
    "raw replay": lambda w, s: single(w, f"/web/{TS}id_/{TARGET}", s),
    "replayed image": lambda w, s: single(w, f"/web/{TS}if_/{IMG}", s),
    "image": lambda w, s: single(w, f"/img?url={IMG}", s),
    "api search": lambda w, s: listed(w, "/api/search", s, marker=TARGET, q="推进会举行"),
    "api latest": lambda w, s: listed(w, "/api/categories/guonei/latest", s, marker=TARGET),
    "api lookup": api_lookup,
    "subscription feed": subscription_feed,
    "export jsonl": export_jsonl,
    "export warc": export_warc,
}


@pytest.mark.parametrize("surface", sorted(SURFACES))
@pytest.mark.parametrize("verb", sorted(PHASES))
def test_every_verb_on_every_surface(archive, tmp_path: Path, verb: str, surface: str) -> None:
    world = World(Client(), archive, tmp_path)
    check = SURFACES[surface]
    before, after, restored = PHASES[verb]
    setup(world, verb)
    check(world, before)
    apply(world, verb)
    check(world, after)
    undo(world, verb)
    check(world, restored)
