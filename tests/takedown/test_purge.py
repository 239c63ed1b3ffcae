"""``kuaizhao takedown purge``: the records leave the WARC files; everything else stays."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from warcio.archiveiterator import ArchiveIterator

from kuaizhao import conf
from kuaizhao.archive import searching
from kuaizhao.archive.ingest import ingest, reset
from kuaizhao.archive.models import Article, ArticleVersion, Capture, WarcFile
from kuaizhao.search.query import parse
from kuaizhao.takedown import actions
from kuaizhao.takedown.models import Event, Request
from kuaizhao.warc.reader import list_warc_files
from tests.factories import Page, write_warc
from tests.takedown.conftest import BASE, ELSEWHERE, IMG, NEIGHBOUR, TARGET, TS

pytestmark = pytest.mark.django_db
WARCIO = Path(sys.executable).with_name("warcio")


def records(directory: Path) -> dict[str, tuple[str, str, str]]:
    """Every record by ID: its type, target URI and a digest of its whole content."""
    found: dict[str, tuple[str, str, str]] = {}
    for path in list_warc_files(directory):
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                headers = record.rec_headers
                content = record.content_stream().read()
                found[headers.get_header("WARC-Record-ID")] = (
                    headers.get_header("WARC-Type"),
                    headers.get_header("WARC-Target-URI") or "",
                    hashlib.sha256(headers.to_str().encode() + content).hexdigest(),
                )
    return found


def uris(path: Path) -> set[str]:
    with path.open("rb") as fh:
        return {r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(fh)}


def approved(verb: str = "exclude", urls: list[str] | None = None, scope: str = "urls") -> Request:
    request = actions.file_request(
        requester="某人",
        email="me@example.com",
        scope=scope,
        urls=urls or [TARGET],
        reason="privacy",
        explanation="含有本人住址",
        proof="身份证明",
        client="c",
    )
    actions.confirm_email(request)
    actions.approve(request, actor="staff", verb=verb)
    return request


def test_purge_removes_the_records_and_keeps_every_other_one(archive, home: Path, outlet):
    # A second file, so one file is rewritten and one is not touched at all.
    later = f"{BASE}/gj/2024/0310/c110.html"
    write_warc(
        home / "warc", [Page(later, title="另一篇国际新闻", published="2024-03-10 08:00:00")]
    )
    write_warc(home / "warc", [Page(TARGET, title="推进会举行（更新）")])  # a second version
    ingest(home / "warc", [outlet])
    files_before = {p.name: p.read_bytes() for p in list_warc_files(home / "warc")}
    untouched = [n for n in files_before if not uris(home / "warc" / n) & {TARGET, IMG}]
    before = records(home / "warc")
    client = Client()
    neighbour = Article.objects.get(url=NEIGHBOUR)
    request = approved()
    assert ArticleVersion.objects.filter(article__url=TARGET).count() == 2

    out = StringIO()
    call_command("takedown", "purge", request.number, stdout=out)
    assert "purged" in out.getvalue()

    after = records(home / "warc")
    gone = {rid for rid, (_, uri, _) in before.items() if uri in (TARGET, IMG)}
    assert {before[rid][0] for rid in gone} >= {"request", "response"}
    assert after == {rid: value for rid, value in before.items() if rid not in gone}
    assert untouched
    for name in untouched:
        assert (home / "warc" / name).read_bytes() == files_before[name]
    assert not list((home / "warc").glob("*.purge"))
    for path in list_warc_files(home / "warc"):
        check = subprocess.run([str(WARCIO), "check", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
    verify = StringIO()
    call_command("verify", stdout=verify)
    assert "problem" not in verify.getvalue().replace("0 problem", "")

    assert not Capture.objects.filter(url__in=[TARGET, IMG]).exists()
    assert not Article.objects.filter(url=TARGET).exists()
    assert not ArticleVersion.objects.filter(capture__url=TARGET).exists()
    for row in WarcFile.objects.all():
        path = home / "warc" / row.name
        assert row.size == path.stat().st_size
        with path.open("rb") as fh:
            kinds = [r.rec_type for r in ArchiveIterator(fh)]
        assert row.records == sum(kind in ("response", "revisit") for kind in kinds)
        assert row.records == Capture.objects.filter(warc_file=row.name).count()
    assert searching.search(parse("推进会举行")).total == 0
    assert neighbour.id in {h.article_id for h in searching.search(parse("城际公交")).hits}
    assert client.get(f"/s/{neighbour.id}").status_code == 200
    assert client.get(f"/web/{TS}id_/{ELSEWHERE}").status_code == 200
    assert client.get(f"/web/{TS}id_/{NEIGHBOUR}").status_code == 200
    assert client.get(f"/web/20240310080000/{later}").status_code in (200, 302)
    assert client.get(f"/web/{TS}id_/{TARGET}").status_code == 404
    assert Event.objects.filter(request=request, action="request.purge").exists()

    # The catalogue agrees with what the WARC files alone say.
    urls = sorted(Capture.objects.values_list("url", "offset", "warc_file"))
    reset()
    ingest(conf.warc_dir(), [outlet])
    assert sorted(Capture.objects.values_list("url", "offset", "warc_file")) == urls
    assert not Article.objects.filter(url=TARGET).exists()


def test_purge_only_what_the_request_governs(archive, home: Path):
    actions.apply_rule(NEIGHBOUR, "allow", actor="ops", exact=True, note="licensed")
    request = approved(verb="block", urls=[f"{BASE}/gn/"], scope="prefix")
    call_command("takedown", "purge", request.number, stdout=StringIO())
    assert Article.objects.filter(url=NEIGHBOUR).exists()  # the narrower allow governs it
    assert Article.objects.filter(url=ELSEWHERE).exists()  # not covered at all
    assert not Article.objects.filter(url=TARGET).exists()
    assert Capture.objects.filter(url=IMG).exists()  # a prefix request names no images


def test_purge_refuses_what_it_must_not_do(archive):
    with pytest.raises(CommandError, match="no takedown request"):
        call_command("takedown", "purge", "KZ-1999-00001")
    pending = actions.file_request(
        requester="x",
        email="x@example.com",
        scope="urls",
        urls=[TARGET],
        reason="other",
        explanation="x",
        proof="x",
        client="c",
    )
    with pytest.raises(CommandError, match="not approved"):
        call_command("takedown", "purge", pending.number)
    assert Article.objects.filter(url=TARGET).exists()
