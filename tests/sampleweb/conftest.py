from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from kuaizhao.sampleweb.server import SampleWeb


class Client:
    """A tiny keep-alive HTTP client for the sample web."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.base = base.rstrip("/")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)

    def request(
        self,
        path: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        if path.startswith("http"):
            path = path[len(self.base) :]
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
                return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()

    def get(self, path: str, **kw: Any) -> bytes:
        status, _, data = self.request(path, **kw)
        assert status == 200, (path, status, data[:200])
        return data

    def json(self, path: str, method: str = "GET", payload: Any = None) -> tuple[int, Any]:
        body = None if payload is None else json.dumps(payload).encode()
        status, _, data = self.request(path, method=method, body=body)
        return status, json.loads(data)


@pytest.fixture(scope="package")
def web() -> Iterator[SampleWeb]:
    server = SampleWeb(360, 1).start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def client(web: SampleWeb) -> Iterator[Client]:
    c = Client(web.url)
    yield c
    c.close()


@pytest.fixture(scope="package")
def manifest(client: Client) -> list[dict[str, Any]]:
    status, data = client.json("/_control/manifest")
    assert status == 200
    return list(data["articles"])


@pytest.fixture()
def fresh() -> Iterator[Client]:
    """A separate server for tests that change the corpus."""
    server = SampleWeb(60, 7).start()
    c = Client(server.url)
    yield c
    c.close()
    server.stop()
