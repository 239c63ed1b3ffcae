from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from kuaizhao.lib.outlets import Outlet, parse_outlet

TEST_OUTLET: dict[str, object] = {
    "slug": "testdaily",
    "name": "测试日报",
    "home": "http://news.test.example/",
    "scope": ["news.test.example"],
    "article_patterns": [r"/\d{4}/\d{4}/c\d+\.html$"],
    "categories": [
        {"pattern": "/gn/", "name": "国内"},
        {"pattern": "/gj/", "name": "国际"},
    ],
}


@pytest.fixture(autouse=True)
def _fresh_page_cache() -> Iterator[None]:
    """Pages are cached in the process by ids and a catalogue stamp; test databases reuse
    both, so no test may be served a page another test rendered."""
    yield
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def outlet() -> Outlet:
    return parse_outlet(dict(TEST_OUTLET))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh $KUAIZHAO_HOME for a test."""
    monkeypatch.setenv("KUAIZHAO_HOME", str(tmp_path))
    (tmp_path / "warc").mkdir()
    return tmp_path


# -- services: PostgreSQL and Redis ------------------------------------------------------
# Tests that need one skip (with the reason) when it is not reachable, and fail instead
# when KUAIZHAO_REQUIRE_SERVICES=1 (CI sets it), so CI never skips them silently.

TEST_PG = os.environ.get("KUAIZHAO_TEST_PG", "postgres://postgres@127.0.0.1:5432/postgres")
TEST_REDIS = os.environ.get("KUAIZHAO_TEST_REDIS", "redis://127.0.0.1:6379/0")


def require_service(name: str, reason: str) -> NoReturn:
    """Skip the test because ``name`` is unavailable, or fail when services are required."""
    message = f"{name} unavailable: {reason}"
    if os.environ.get("KUAIZHAO_REQUIRE_SERVICES", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(f"{message} (KUAIZHAO_REQUIRE_SERVICES is set)", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A reachable Redis URL (keys a test makes go under its own redis_prefix)."""
    try:
        import redis

        client = redis.Redis.from_url(TEST_REDIS, socket_connect_timeout=2)
        client.ping()
        client.close()
    except Exception as exc:  # any failure to reach it means "unavailable"
        require_service("Redis", f"{TEST_REDIS}: {exc}")
    yield TEST_REDIS


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A unique key prefix, deleted afterwards."""
    import redis

    prefix = f"kztest-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def pg_database_url() -> Iterator[str]:
    """A freshly created, uniquely named PostgreSQL database, dropped afterwards."""
    try:
        import psycopg

        admin = psycopg.connect(TEST_PG, autocommit=True, connect_timeout=3)
    except Exception as exc:
        require_service("PostgreSQL", f"{TEST_PG}: {exc}")
    name = f"kztest_{uuid.uuid4().hex[:12]}"
    base = TEST_PG.rsplit("/", 1)[0]
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{base}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
