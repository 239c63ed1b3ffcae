"""The shared Redis frontier, with leases: a request a crawler has taken is not lost if it dies.

scrapy-redis pops a request off the shared sorted set and forgets it; a crawler
killed with that request in flight would lose it. Here a pop moves the request,
in one Lua script, from the queue to an in-flight set with a lease (an expiry
time and the taker's host and pid). The lease is released once the request's
callback or errback has run and the requests it yielded are in the Redis queue
(:class:`LeaseReleaseMiddleware` schedules them itself first: Scrapy would hold
them in memory a while), renewed while the taker lives, and handed back to the
queue when it expires or, on the taker's own host, as soon as the taker's process
is gone. A request re-queued by its taker (a retry, a redirect) gives its lease
up as it goes back.

A new request is marked in the shared seen filter by its push, in one Lua
script: the script tests the request's Bloom bits, adds it to the queue if they
were not all set, then sets them (:data:`~kuaizhao.crawler.seen.MARK_META`).
Marked seen means queued: a crawler killed between the seen filter's test and
the push has marked nothing, and the request is yielded again with its page.

Keys next to the queue ``<key>``: ``<key>:inflight`` (sorted set lease id -> expiry),
``<key>:leased`` (hash lease id -> request), ``<key>:score`` (hash lease id -> queue
score), ``<key>:owner`` (hash lease id -> "host pid").
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from scrapy import Request
from scrapy.http import Response
from scrapy_redis.queue import PriorityQueue  # type: ignore[import-untyped]

from kuaizhao.crawler.seen import MARK_META

log = logging.getLogger(__name__)

LEASE_META = "kuaizhao_lease"
LEASE_SECONDS = 300.0
"""A lease not renewed for this long is handed back (the taker is presumed dead)."""
RENEW_EVERY = 30.0

_POP = """
local items = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #items == 0 then return false end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, 0)
local id = redis.sha1hex(items[1] .. ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[1], id)
redis.call('HSET', KEYS[3], id, items[1])
redis.call('HSET', KEYS[4], id, items[2])
redis.call('HSET', KEYS[5], id, ARGV[2])
return {id, items[1]}
"""
"""Take the first request: queue -> in-flight under a new lease id."""

_RELEASE = """
local n = 0
for _, id in ipairs(ARGV) do
  n = n + redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
end
return n
"""

_RETURN = """
local n = 0
for _, id in ipairs(ARGV) do
  local data = redis.call('HGET', KEYS[3], id)
  local score = redis.call('HGET', KEYS[4], id)
  if redis.call('ZREM', KEYS[2], id) == 1 and data then
    redis.call('ZADD', KEYS[1], score or 0, data)
    n = n + 1
  end
  redis.call('HDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
  redis.call('HDEL', KEYS[5], id)
end
return n
"""
"""Hand leases back: in-flight -> queue, with the score the request had."""

_MARK_AND_PUSH = """
local marked = 1
for i = 3, #ARGV do
  if redis.call('GETBIT', KEYS[2], ARGV[i]) == 0 then marked = 0; break end
end
if marked == 1 then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
for i = 3, #ARGV do redis.call('SETBIT', KEYS[2], ARGV[i], 1) end
return 1
"""
"""Queue a request and set its Bloom bits, unless another crawler set them all first.

Queued before marked: a script that fails part way leaves the request queued, not marked
(a duplicate at worst, never a loss).
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LeasedPriorityQueue(PriorityQueue):  # type: ignore[misc]
    """scrapy-redis's priority queue where a popped request stays leased until released."""

    marks_seen = True
    """Its push sets a new request's bits in the shared seen filter (read by the filter)."""

    def __init__(self, server: Any, spider: Any, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer)
        self.owner = f"{socket.gethostname()} {os.getpid()}"
        self.keys = [self.key, f"{self.key}:inflight", f"{self.key}:leased"]
        self.keys += [f"{self.key}:score", f"{self.key}:owner"]
        self._pop = server.register_script(_POP)
        self._release = server.register_script(_RELEASE)
        self._return = server.register_script(_RETURN)
        self._mark_and_push = server.register_script(_MARK_AND_PUSH)
        self.held: set[str] = set()
        self._renewed = time.time()
        self._serial = 0
        spider.frontier = self
        self.reclaim()

    def push(self, request: Request) -> None:
        lease = request.meta.pop(LEASE_META, None)
        mark = request.meta.pop(MARK_META, None)
        if mark is None:
            super().push(request)
        else:  # a new request: queued and marked seen at once
            bloom, bits = mark
            data = self._encode_request(request)
            args = [-request.priority, data, *bits]
            if not self._mark_and_push(keys=[self.key, bloom], args=args):
                self.spider.crawler.stats.inc_value("kuaizhao/seen_at_push")
        if lease:  # back in the queue: the old lease is done with
            self.release([lease])

    def pop(self, timeout: int = 0) -> Request | None:
        self._serial += 1
        taken = self._pop(
            keys=self.keys,
            args=[time.time() + LEASE_SECONDS, self.owner, f"{self.owner} {self._serial}"],
        )
        if not taken:
            return None
        lease, data = _text(taken[0]), taken[1]
        request: Request = self._decode_request(data)
        request.meta[LEASE_META] = lease
        self.held.add(lease)
        return request

    def release(self, leases: Iterable[str]) -> int:
        ids = [lease for lease in leases if lease]
        if not ids:
            return 0
        self.held.difference_update(ids)
        return int(self._release(keys=self.keys[1:], args=ids))

    def done(self, request: Request | None) -> None:
        """The request's callback or errback has run: release its lease."""
        lease = request.meta.get(LEASE_META) if request is not None else None
        if lease:
            self.release([lease])

    def in_flight(self) -> int:
        return int(self.server.zcard(self.keys[1]))

    def renew(self, force: bool = False) -> None:
        """Push this process's leases forward (called every scheduling tick)."""
        now = time.time()
        if not self.held or (not force and now - self._renewed < RENEW_EVERY):
            return
        self._renewed = now
        pipe = self.server.pipeline()
        for lease in self.held:
            pipe.zadd(self.keys[1], {lease: now + LEASE_SECONDS}, xx=True)
        pipe.execute()

    def reclaim(self) -> int:
        """Hand back to the queue every lease that expired, or whose taker on this host died."""
        now = time.time()
        expired = [_text(x) for x in self.server.zrangebyscore(self.keys[1], "-inf", now)]
        host = socket.gethostname()
        for lease, owner in self.server.hgetall(self.keys[4]).items():
            name, _, pid = _text(owner).rpartition(" ")
            if name == host and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                expired.append(_text(lease))
        expired = sorted(set(expired) - self.held)
        if not expired:
            return 0
        returned = int(self._return(keys=self.keys, args=expired))
        if returned:
            log.warning("handed %d request(s) of crawlers gone back to the frontier", returned)
        return returned

    def forget_held(self) -> int:
        """Release every lease of this process (nothing of ours is in flight any more)."""
        return self.release(list(self.held))


class LeaseReleaseMiddleware:
    """Spider middleware, nearest the engine: schedules the requests a callback yields, then
    releases the lease of the request it answered (the errback path releases in
    :meth:`OutletSpider.on_error`).

    Scrapy hands a callback's output to the scheduler through an in-memory queue after the
    callback has run; released before they are in the Redis queue, they would be lost with
    a crawler killed in between, and the page that yielded them is not fetched again. Passed
    to :meth:`ExecutionEngine.crawl` here (seen filter, then the Redis queue) they are
    durable first: a kill before the release only makes the page be fetched again.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> LeaseReleaseMiddleware:
        return cls(crawler)

    def _done(self, response: Response | None) -> None:
        frontier = getattr(self.crawler.spider, "frontier", None)
        if frontier is not None and response is not None:
            frontier.done(response.request)

    def _leased(self, response: Response | None) -> bool:
        request = response.request if response is not None else None
        return request is not None and bool(request.meta.get(LEASE_META))

    def _schedule(self, output: Any) -> bool:
        if isinstance(output, Request):
            self.crawler.engine.crawl(output)
            return True
        return False

    def process_spider_output(
        self, response: Response | None, result: Iterable[Any]
    ) -> Iterator[Any]:
        if not self._leased(response):
            yield from result
            return
        rest = [output for output in result if not self._schedule(output)]
        self._done(response)
        yield from rest

    async def process_spider_output_async(
        self, response: Response | None, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        if not self._leased(response):
            async for output in result:
                yield output
            return
        rest = [output async for output in result if not self._schedule(output)]
        self._done(response)
        for output in rest:
            yield output
