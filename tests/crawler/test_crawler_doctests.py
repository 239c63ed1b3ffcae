"""The crawler's doctests (and the database URL parser's)."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    "name",
    [
        "kuaizhao.crawler.seen",
        "kuaizhao.crawler.politeness",
        "kuaizhao.crawler.links",
        "kuaizhao.settings",
    ],
)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0


def test_a_postgres_url_becomes_django_database_settings() -> None:
    from kuaizhao.settings import database_from_url

    db = database_from_url("postgresql://kz:p%40ss@db.example:6432/archive?sslmode=require")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "kz",
        "p@ss",
        "db.example",
        "6432",
    )
    assert db["OPTIONS"] == {"sslmode": "require"}


@pytest.mark.parametrize("url", ["mysql://x@y/z", "postgres://x@y/"])
def test_a_bad_database_url_is_a_config_error(url: str) -> None:
    from kuaizhao.conf import ConfigError
    from kuaizhao.settings import database_from_url

    with pytest.raises(ConfigError, match="KUAIZHAO_DATABASE_URL"):
        database_from_url(url)
