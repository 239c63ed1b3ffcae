"""A small asyncio HTTP/1.1 server (keep-alive, pipelining, gzip, conditional GET).

Stdlib only. The parser is strict and bounded: malformed requests get a 400 and the
connection is closed; nothing a client sends can take the server down.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
from email.utils import formatdate, parsedate_to_datetime

from kuaizhao.sampleweb.app import App, Response, error
from kuaizhao.sampleweb.corpus import Corpus
from kuaizhao.sampleweb.faults import Fault, apply_fault
from kuaizhao.sampleweb.sites import SITES

MAX_HEAD = 16 * 1024
MAX_BODY = 1024 * 1024
IDLE_TIMEOUT = 60.0
REASONS = {
    200: "OK", 301: "Moved Permanently", 304: "Not Modified", 400: "Bad Request",
    404: "Not Found", 405: "Method Not Allowed", 413: "Payload Too Large",
    431: "Request Header Fields Too Large", 501: "Not Implemented",
    505: "HTTP Version Not Supported",
}  # fmt: skip
TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Request:
    __slots__ = ("body", "headers", "keep_alive", "method", "target")

    def __init__(self, method: str, target: str, headers: dict[str, str], keep: bool) -> None:
        self.method = method
        self.target = target
        self.headers = headers
        self.keep_alive = keep
        self.body = b""


def parse_head(raw: bytes) -> Request:
    """Parse the request line and headers (``raw`` excludes the blank line)."""
    lines = raw.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3:
        raise BadRequest(400, "malformed request line")
    method, target, version = parts
    if not method or not all(c in TOKEN for c in method):
        raise BadRequest(400, "malformed method")
    if version not in (b"HTTP/1.1", b"HTTP/1.0"):
        if version.startswith(b"HTTP/") and len(version) == 8:
            raise BadRequest(505, "unsupported HTTP version")
        raise BadRequest(400, "malformed HTTP version")
    if not target or any(c <= 32 or c >= 127 for c in target):
        raise BadRequest(400, "malformed request target")
    text_target = target.decode("ascii")
    if text_target.startswith(("http://", "https://")):
        after = text_target.split("//", 1)[1]
        text_target = "/" + after.split("/", 1)[1] if "/" in after else "/"
    if not text_target.startswith("/"):
        raise BadRequest(400, "request target must be a path")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or not name or not all(c in TOKEN for c in name):
            raise BadRequest(400, "malformed header line")
        key = name.decode("ascii").lower()
        val = value.strip().decode("latin-1")
        headers[key] = f"{headers[key]}, {val}" if key in headers else val
    conn = headers.get("connection", "").lower()
    keep = "close" not in conn if version == b"HTTP/1.1" else "keep-alive" in conn
    return Request(method.decode("ascii"), text_target, headers, keep)


def _not_modified(req: Request, resp: Response) -> bool:
    if resp.status != 200 or req.method not in ("GET", "HEAD"):
        return False
    inm = req.headers.get("if-none-match")
    if inm is not None:
        if resp.etag is None:
            return False
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return "*" in tags or resp.etag in tags
    ims = req.headers.get("if-modified-since")
    if ims and resp.last_modified is not None:
        try:
            since = parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
        return resp.last_modified <= since
    return False


class HttpProtocol(asyncio.Protocol):
    def __init__(self, app: App, live: set[HttpProtocol] | None = None) -> None:
        self.app = app
        self.live = live if live is not None else set()
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.waiting = False  # a delayed response is pending; hold later requests
        self.closing = False
        self.idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.live.add(self)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.live.discard(self)
        if self.idle is not None:
            self.idle.cancel()

    def _arm(self) -> None:
        if self.idle is not None:
            self.idle.cancel()
        loop = asyncio.get_running_loop()
        self.idle = loop.call_later(IDLE_TIMEOUT, self._close)

    def _close(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        self.buf += data
        self._arm()
        self._process()

    def _process(self) -> None:
        while not self.waiting and not self.closing:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > MAX_HEAD:
                    self._fail(431, "request head too large")
                return
            if end > MAX_HEAD:
                self._fail(431, "request head too large")
                return
            try:
                req = parse_head(bytes(self.buf[:end]))
                length = self._length(req)
            except BadRequest as exc:
                self._fail(exc.status, str(exc))
                return
            except UnicodeDecodeError:
                self._fail(400, "malformed request")
                return
            total = end + 4 + length
            if len(self.buf) < total:
                return
            req.body = bytes(self.buf[end + 4 : total])
            del self.buf[:total]
            self._respond(req)

    @staticmethod
    def _length(req: Request) -> int:
        if "transfer-encoding" in req.headers:
            raise BadRequest(501, "chunked request bodies are not supported")
        raw = req.headers.get("content-length")
        if raw is None:
            return 0
        if not raw.isdigit() or len(raw) > 9:
            raise BadRequest(400, "bad Content-Length")
        if int(raw) > MAX_BODY:
            raise BadRequest(413, "request body too large")
        return int(raw)

    def _fail(self, status: int, message: str) -> None:
        self.app.stats["bad_request"] += 1
        self._write(Request("GET", "/", {}, False), error(status, message, "bad_request"))
        self.buf.clear()

    def _respond(self, req: Request) -> None:
        try:
            resp = self.app.handle(req.method, req.target, req.body)
        except Exception as exc:  # a bug must not take the server down
            resp = error(500, f"internal error: {type(exc).__name__}", "bad_request")
            REASONS.setdefault(500, "Internal Server Error")
        fault = self.app.faults.get(req.target.split("?", 1)[0])
        resp = apply_fault(resp, fault, req.target)
        if resp.delay > 0:
            self.waiting = True
            loop = asyncio.get_running_loop()
            loop.call_later(resp.delay, self._delayed, req, resp)
            return
        self._write(req, resp)

    def _drip(self, rest: bytes, every: float, size: int, keep: bool) -> None:
        """Send ``size`` bytes every ``every`` seconds (a "slow drip" response)."""
        if self.transport is None or self.closing:
            return
        self.transport.write(rest[:size])
        rest = rest[size:]
        if rest:
            asyncio.get_running_loop().call_later(every, self._drip, rest, every, size, keep)
            return
        self.waiting = False
        if not keep:
            self.closing = True
            self.transport.close()
        else:
            self._process()

    def _write_malformed(self, kind: str, body: bytes) -> None:
        """A response no HTTP client can parse, then close."""
        assert self.transport is not None
        if kind == "status":
            raw = b"HTTX/1.1 two hundred\r\nContent-Length: 2\r\n\r\nok"
        elif kind == "headers":
            raw = b"HTTP/1.1 200 OK\r\nContent-Type text/html\r\n\x00\x01 broken\r\n\r\n" + body
        else:
            raw = b"HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\n" + body
        self.transport.write(raw)
        self.closing = True
        self.transport.close()

    def _delayed(self, req: Request, resp: Response) -> None:
        self.waiting = False
        if self.closing:
            return
        self._write(req, resp)
        self._process()

    def _write(self, req: Request, resp: Response) -> None:
        if self.transport is None or self.closing:
            return
        status = 304 if _not_modified(req, resp) else resp.status
        body = resp.body
        headers = [
            f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}",
            "Server: kuaizhao-sampleweb",
            f"Date: {_now()}",
        ]
        if status != 304:
            headers.append(f"Content-Type: {resp.content_type}")
        if resp.gzip_ok and "gzip" in req.headers.get("accept-encoding", ""):
            body = resp.gzipped()
            headers.append("Content-Encoding: gzip")
        if resp.gzip_ok:
            headers.append("Vary: Accept-Encoding")
        if resp.etag:
            headers.append(f"ETag: {resp.etag}")
        if resp.last_modified is not None:
            headers.append(f"Last-Modified: {formatdate(resp.last_modified, usegmt=True)}")
        for name, value in resp.extra:
            headers.append(f"{name}: {value}")
        keep = req.keep_alive and resp.truncate is None and resp.status < 400
        if status == 304:
            body = b""
        headers.append(f"Content-Length: {len(body)}")
        headers.append("Connection: keep-alive" if keep else "Connection: close")
        if req.method == "HEAD":
            body = b""
        elif resp.truncate is not None:
            body = body[: resp.truncate]
        head = ("\r\n".join(headers) + "\r\n\r\n").encode("latin-1")
        if resp.malformed is not None:
            self._write_malformed(resp.malformed, body)
            return
        if resp.drip > 0 and body:
            self.transport.write(head)
            self.waiting = True
            self._drip(body, resp.drip, resp.drip_bytes, keep)
            return
        self.transport.write(head + body)
        if not keep:
            self.closing = True
            self.transport.close()


_date_cache: list[tuple[int, str]] = [(0, "")]


def _now() -> str:
    import time

    sec = int(time.time())
    if _date_cache[0][0] != sec:
        _date_cache[0] = (sec, formatdate(sec, usegmt=True))
    return _date_cache[0][1]


class SampleWeb:
    """The server object: ``start()`` in a background thread or ``serve()`` in a loop."""

    def __init__(self, articles: int = 360, seed: int = 1, page_bytes: int = 0) -> None:
        self.corpus = Corpus(articles, seed)
        self.app = App(self.corpus, page_bytes)
        self.host = "127.0.0.1"
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._live: set[HttpProtocol] = set()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    async def bind(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: HttpProtocol(self.app, self._live), host, port
        )
        sock = self._server.sockets[0]
        self.host, self.port = host, sock.getsockname()[1]
        self.corpus.origin = f"http://{host}:{self.port}"
        self.app.cache.clear()

    async def serve(self, host: str, port: int, announce: bool = False) -> None:
        """Bind and serve until :meth:`stop`; ``announce`` also handles SIGINT/SIGTERM."""
        await self.bind(host, port)
        self._stop = asyncio.Event()
        if announce:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.add_signal_handler(sig, self._stop.set)
            print(self.banner(), flush=True)
        assert self._server is not None
        async with self._server:
            await self._stop.wait()
            for proto in list(self._live):
                proto._close()
            await asyncio.sleep(0)

    def banner(self) -> str:
        lines = [f"kuaizhao sample web on {self.url} ({len(self.corpus.articles)} articles)"]
        lines += [f"  {s.slug}\t{s.name}\t{self.url}{s.slug}/" for s in SITES]
        return "\n".join(lines)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def start(self, host: str = "127.0.0.1", port: int = 0) -> SampleWeb:
        """Serve in a daemon thread; returns once the socket is bound."""
        ready = threading.Event()

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop

            async def go() -> None:
                task = asyncio.ensure_future(self.serve(host, port))
                while self._stop is None and not task.done():
                    await asyncio.sleep(0.005)
                ready.set()
                await task

            try:
                loop.run_until_complete(go())
            finally:
                ready.set()
                loop.close()

        self._thread = threading.Thread(target=main, name="sampleweb", daemon=True)
        self._thread.start()
        ready.wait(timeout=60)
        return self


def run(
    host: str = "127.0.0.1",
    port: int = 8001,
    articles: int = 360,
    seed: int = 1,
    faults: dict[str, Fault] | None = None,
    page_bytes: int = 0,
) -> None:
    """Build the corpus, bind, announce the outlets on stdout and serve until SIGINT/SIGTERM."""
    web = SampleWeb(articles, seed, page_bytes)
    web.app.faults.update(faults or {})
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(web.serve(host, port, announce=True))
    sys.stdout.flush()
