from __future__ import annotations

import socket
from typing import Any

from kuaizhao.sampleweb.server import SampleWeb

from .conftest import Client


def _raw(web: SampleWeb, payload: bytes) -> bytes:
    with socket.create_connection((web.host, web.port), timeout=5) as sock:
        sock.sendall(payload)
        chunks = []
        while True:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                break
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)


def test_conditional_requests(client: Client, manifest: list[dict[str, Any]]) -> None:
    url = manifest[0]["url"]
    status, headers, _ = client.request(url)
    assert status == 200 and headers["etag"] and headers["last-modified"]
    status, _, body = client.request(url, headers={"If-None-Match": headers["etag"]})
    assert status == 304 and body == b""
    status, _, _ = client.request(url, headers={"If-None-Match": '"other"'})
    assert status == 200
    status, _, _ = client.request(url, headers={"If-Modified-Since": headers["last-modified"]})
    assert status == 304
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.request(url, headers={"If-Modified-Since": old})[0] == 200


def test_head_404_405(client: Client) -> None:
    status, headers, body = client.request("/huaxia/", method="HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0
    assert client.request("/nope/")[0] == 404
    assert client.request("/huaxia/n1/2024/0101/c1001-1.html")[0] == 404
    assert client.request("/huaxia/GB/1001/index_999.html")[0] == 404
    status, headers, _ = client.request("/huaxia/", method="DELETE")
    assert status == 405 and "GET" in headers["allow"]


def test_malformed_requests_get_400_and_server_survives(web: SampleWeb, client: Client) -> None:
    garbage = [
        b"GARBAGE\r\n\r\n",
        b"GET /\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET / FOO/1.1\r\n\r\n",
        b"GET nopath HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nbad header\r\n\r\n",
        b"POST /_control/publish HTTP/1.1\r\nContent-Length: x\r\n\r\n",
        b"G\xffT / HTTP/1.1\r\n\r\n",
        b"GET /\x01 HTTP/1.1\r\n\r\n",
        b"\x00\x01\x02\r\n\r\n",
    ]
    for payload in garbage:
        reply = _raw(web, payload)
        assert reply.startswith((b"HTTP/1.1 400", b"HTTP/1.1 505")), (payload, reply[:60])
    huge = _raw(web, b"GET / HTTP/1.1\r\nX: " + b"a" * 40000 + b"\r\n\r\n")
    assert huge.startswith(b"HTTP/1.1 431")
    assert _raw(web, b"") == b""
    assert client.get("/robots.txt").startswith(b"User-agent")


def test_keep_alive_and_pipelining(web: SampleWeb) -> None:
    one = b"GET /robots.txt HTTP/1.1\r\nHost: x\r\n\r\n"
    last = b"GET /huaxia/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    reply = _raw(web, one * 3 + last)
    assert reply.count(b"HTTP/1.1 200 OK") == 4
    assert reply.count(b"Connection: keep-alive") == 3
    http10 = _raw(web, b"GET /robots.txt HTTP/1.0\r\n\r\n")
    assert http10.startswith(b"HTTP/1.1 200") and b"Connection: close" in http10
