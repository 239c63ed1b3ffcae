"""A tiny local news site for crawl tests: stdlib http.server in a thread, pages held in memory."""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    chunked: bool = False
    gzip: bool = False
    location: str | None = None

    def wire_body(self, accept_encoding: str) -> tuple[bytes, bool]:
        """The body bytes as sent, and whether they are gzip-encoded."""
        if self.gzip and "gzip" in accept_encoding:
            return gzip.compress(self.body, mtime=0), True
        return self.body, False


@dataclass
class Site:
    """Pages by path, and a log of every request (path, headers) the server saw."""

    pages: dict[str, Page] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    sent: dict[str, bytes] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def paths(self) -> list[str]:
        with self.lock:
            return [p for p, _ in self.requests]


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            with site.lock:
                site.requests.append((self.path, dict(self.headers.items())))
            page = site.pages.get(self.path) or Page(b"<html>not found</html>", status=404)
            body, encoded = page.wire_body(self.headers.get("Accept-Encoding", ""))
            with site.lock:
                site.sent[self.path] = body
            self.send_response(page.status)
            self.send_header("Content-Type", page.content_type)
            if page.location:
                self.send_header("Location", page.location)
            if encoded:
                self.send_header("Content-Encoding", "gzip")
            if page.chunked:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for start in range(0, len(body), 1000):
                    piece = body[start : start + 1000]
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Connections the crawler aborts on purpose (oversize bodies) are not errors."""


class SiteServer:
    """Serves a :class:`Site` on 127.0.0.1 and a free port until stopped."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.httpd = _QuietServer(("127.0.0.1", 0), _handler(site))
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> SiteServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
