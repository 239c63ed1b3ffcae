from __future__ import annotations

import re
from pathlib import Path

import pytest

from kuaizhao import conf

DOCS = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


def test_every_setting_is_documented_with_its_default():
    documented = dict(re.findall(r"^\| `(\w+)` \| `([^`]*)` \|", DOCS.read_text(), re.M))
    assert documented == {s.name: s.default for s in conf.SETTINGS}


@pytest.mark.parametrize("value", ["True", "true", "1", "yes"])
def test_booleans_accept_the_usual_spellings(monkeypatch, value):
    monkeypatch.setenv("KUAIZHAO_DEBUG", value)
    assert conf.get_bool("KUAIZHAO_DEBUG") is True


def test_a_bad_boolean_says_what_to_use(monkeypatch):
    monkeypatch.setenv("KUAIZHAO_DEBUG", "maybe")
    with pytest.raises(conf.ConfigError, match="use 'True' or 'False'"):
        conf.get_bool("KUAIZHAO_DEBUG")


def test_a_bad_number_is_named(monkeypatch):
    monkeypatch.setenv("KUAIZHAO_DOWNLOAD_TIMEOUT", "soon")
    with pytest.raises(conf.ConfigError, match="KUAIZHAO_DOWNLOAD_TIMEOUT"):
        conf.get_int("KUAIZHAO_DOWNLOAD_TIMEOUT")


def test_secrets_come_from_files_and_are_masked(monkeypatch, tmp_path):
    secret = tmp_path / "key"
    secret.write_text("s3cret\n")
    monkeypatch.delenv("KUAIZHAO_SECRET_KEY", raising=False)
    monkeypatch.setenv("KUAIZHAO_SECRET_KEY_FILE", str(secret))
    assert conf.get("KUAIZHAO_SECRET_KEY") == "s3cret"
    assert ("KUAIZHAO_SECRET_KEY", "********") in conf.dump()


def test_home_is_created_where_the_environment_says(monkeypatch, tmp_path):
    monkeypatch.setenv("KUAIZHAO_HOME", str(tmp_path / "data"))
    assert conf.warc_dir() == tmp_path / "data" / "warc"
    assert conf.warc_dir().is_dir()


@pytest.mark.django_db
def test_sqlite_connections_keep_a_page_cache_of_the_configured_size():
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("a PostgreSQL catalogue has no SQLite page cache")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        assert cursor.fetchone()[0] == -1024 * conf.get_int("KUAIZHAO_SQLITE_CACHE_MB")


@pytest.mark.parametrize("value", ["0", "-5", "lots"])
def test_a_bad_cache_size_stops_the_site_with_its_name(value):
    import os
    import subprocess
    import sys

    env = {**os.environ, "KUAIZHAO_SQLITE_CACHE_MB": value}
    env.pop("KUAIZHAO_DATABASE_URL", None)
    run = subprocess.run(
        [sys.executable, "-c", "import kuaizhao.settings"], env=env, capture_output=True, text=True
    )
    assert run.returncode != 0
    assert "KUAIZHAO_SQLITE_CACHE_MB" in run.stderr.splitlines()[-1]
