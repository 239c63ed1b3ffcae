"""The operator's command line and the crawler: real processes, a real local site."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from kuaizhao.lib.surt import surt
from kuaizhao.takedown.matching import read_rules
from kuaizhao.takedown.models import Event, Rule
from kuaizhao.warc import iter_captures, list_warc_files
from tests.crawler.site import Page, Site, SiteServer

ROOT = Path(__file__).resolve().parents[2]
UA = "kuaizhao-test/1.0 (+http://example.org/bot)"


def html(title: str, body: str) -> bytes:
    return (
        f'<html><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><h1>{title}</h1>{body}</body></html>"
    ).encode()


def kuaizhao(home: Path, *args: str, database_url: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KUAIZHAO_HOME": str(home)}
    env["KUAIZHAO_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "kuaizhao", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )


def test_the_crawler_never_fetches_a_removed_url(tmp_path: Path):
    art = "/news/2024/0101/c100-{}.html"
    links = "".join(f'<a href="{art.format(n)}">文章{n}</a>' for n in (1, 2, 3))
    site = Site(
        pages={
            "/robots.txt": Page(b"User-agent: *\n", "text/plain"),
            "/news/": Page(html("首页", links)),
            **{art.format(n): Page(html(f"文章{n}", "<p>正文</p>" * 5)) for n in (1, 2, 3)},
        }
    )
    home = tmp_path / "home"
    with SiteServer(site) as server:
        base = f"http://127.0.0.1:{server.port}"
        removed = f"{base}{art.format(2)}"
        done = kuaizhao(
            home, "takedown", "apply", "--verb", "exclude", "--url", removed, "--reason", "privacy"
        )
        assert done.returncode == 0, done.stderr
        assert "rule 1: exclude" in done.stdout
        blocked = kuaizhao(
            home,
            "takedown", "apply", "--verb", "block", "--prefix", f"{base}/news/2024/0101/c100-3",
            "--reason", "court order",
        )  # fmt: skip
        assert blocked.returncode == 0, blocked.stderr
        outlets = tmp_path / "outlets"
        outlets.mkdir()
        (outlets / "t.toml").write_text(
            f'slug = "t"\nname = "测试"\nhome = "{base}/news/"\nscope = ["{base}/news/"]\n'
            f'allow_private = true\nstart_urls = ["{base}/news/"]\n'
            "article_patterns = ['/\\\\d{4}/\\\\d{4}/c\\\\d+-\\\\d+\\\\.html$']\n"
            "[politeness]\ndelay = 0.0\n",
            encoding="utf-8",
        )
        env = {**os.environ, "PYTHONPATH": str(ROOT), "KUAIZHAO_HOME": str(home)}
        env["KUAIZHAO_DATABASE_URL"] = ""
        command = [sys.executable, "-m", "kuaizhao.crawler", "--outlets", str(outlets)]
        command += ["--warc-dir", str(home / "warc"), "--user-agent", UA]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=300, env=env, cwd=ROOT
        )
        assert result.returncode == 0, result.stderr[-3000:]
    fetched = set(site.paths())
    assert art.format(1) in fetched
    assert art.format(2) not in fetched and art.format(3) not in fetched
    captured = {c.url for p in list_warc_files(home / "warc") for c in iter_captures(p)}
    assert f"{base}{art.format(1)}" in captured and removed not in captured
    stats = json.loads(result.stdout.strip().splitlines()[-1])
    assert stats  # the crawl reported its figures


@pytest.mark.django_db
def test_list_and_revoke_from_the_command_line(db):
    url = "http://news.test.example/gn/2024/0301/c101.html"

    def run(*args: str) -> str:
        out = StringIO()
        call_command("takedown", *args, stdout=out)
        return out.getvalue()

    made = run("apply", "--verb", "block", "--url", url, "--reason", "court order 42")
    rule = Rule.objects.get()
    assert made.startswith(f"rule {rule.pk}: block") and rule.reference == f"R{rule.pk}"
    listing = run("list")
    assert f"{rule.pk}\tblock\t{surt(url)}\tR{rule.pk}\t0 hidden" in listing
    assert "court order 42" in listing
    with pytest.raises(CommandError, match="invalid choice"):
        run("apply", "--verb", "hide", "--url", url, "--reason", "x")
    with pytest.raises(CommandError, match="exactly one of --prefix"):
        run("apply", "--verb", "block", "--reason", "x")
    with pytest.raises(CommandError, match="not a date"):
        run("apply", "--verb", "block", "--url", url, "--reason", "x", "--until", "soon")
    with pytest.raises(CommandError, match="no rule"):
        run("revoke", str(rule.pk + 100), "--reason", "x")
    assert "revoked" in run("revoke", str(rule.pk), "--reason", "order lifted")
    with pytest.raises(CommandError, match="already revoked"):
        run("revoke", str(rule.pk), "--reason", "order lifted")
    assert run("list").strip() == ""
    assert "revoked" in run("list", "--all")
    trail = Event.objects.filter(rule=rule).values_list("actor", "action", "detail")
    assert [(a, d) for _, a, d in trail] == [
        ("rule.apply", f"block {rule}: court order 42"),
        ("rule.revoke", "order lifted"),
    ]
    assert all(actor.startswith("cli:") for actor, _, _ in trail)
    assert "0 articles" in run("sync")


def test_the_crawler_reads_rules_from_postgresql(tmp_path: Path, pg_database_url: str):
    url = "http://news.test.example/gn/2024/0301/c101.html"
    args = ("apply", "--verb", "exclude", "--prefix", url, "--reason", "privacy")
    done = kuaizhao(tmp_path, "takedown", *args, database_url=pg_database_url)
    assert done.returncode == 0, done.stderr
    rules = read_rules(pg_database_url, str(tmp_path / "none.sqlite3"))
    assert rules.hides(surt(url + "?page=2")) is not None
    assert rules.hides(surt("http://news.test.example/gn/")) is None


def test_a_catalogue_without_takedown_tables_has_no_rules(tmp_path: Path):
    import sqlite3

    sqlite3.connect(tmp_path / "empty.sqlite3").close()
    assert not read_rules("", str(tmp_path / "empty.sqlite3"))
    assert not read_rules("", str(tmp_path / "missing.sqlite3"))
    assert not (tmp_path / "missing.sqlite3").exists()


def test_the_command_is_listed(tmp_path: Path):
    done = kuaizhao(tmp_path, "--help")
    assert done.returncode == 0 and "takedown" in done.stdout and "purge" in done.stdout
