"""The seen-URL filter: a Bloom filter for articles and images, a time window for sources.

Memory stays bounded whatever the crawl's length: the Bloom filter is sized
for :data:`CAPACITY` URLs at :data:`ERROR_RATE` false positives (10M URLs at
0.1%: 143.8M bits = 18 MB, 10 hash functions), in process memory or, with
Redis, as one shared Redis string checked and set atomically by a Lua script.
A false positive means one new article or image is skipped, never a source:
list pages, feeds and sitemaps are never put in the Bloom filter; each is let
through again once its re-visit window has passed.

A URL that passes the Bloom filter is checked against the persistent crawl
state, so after a restart nothing already captured is fetched again; what
passes is recorded as pending so a killed crawler resumes it. (The requests an
article page yields are written to the pending frontier before the page counts
as parsed, by :meth:`~kuaizhao.crawler.state.SqliteState.mark_expanded`: Scrapy
schedules them only after the callback has returned.)

With the shared Redis frontier the filter only tests the Bloom bits of a new
request; the request carries them (:data:`MARK_META`) to the queue, whose push
sets them and adds the request to the queue in one Lua script
(:class:`~kuaizhao.crawler.frontier.LeasedPriorityQueue`). A crawler killed
between the test and the push has marked nothing, so the page that yielded the
request yields it again when it is fetched again; a request marked seen is in
the queue. Two crawlers that both pass the test race at the push: the second
push finds the bits set and adds nothing.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from scrapy import Request

from kuaizhao.crawler.state import SOURCE_KINDS, CrawlState, Pending

CAPACITY = 10_000_000
ERROR_RATE = 0.001
KIND_META = "kuaizhao_kind"
MARK_META = "kuaizhao_mark"
"""Request meta: (Bloom key, bit positions) the Redis queue sets as it pushes the request."""
OUTLET_META = "kuaizhao_outlet"
SOURCE_META = "kuaizhao_source"


def bloom_size(capacity: int, error_rate: float) -> tuple[int, int]:
    """(bits, hash functions) for ``capacity`` items at ``error_rate`` false positives.

    >>> bloom_size(10_000_000, 0.001)
    (143775876, 10)
    """
    bits = math.ceil(-capacity * math.log(error_rate) / (math.log(2) ** 2))
    hashes = max(1, round(bits / capacity * math.log(2)))
    return bits, hashes


def _positions(item: str, bits: int, hashes: int) -> list[int]:
    digest = hashlib.blake2b(item.encode("utf-8"), digest_size=16).digest()
    a = int.from_bytes(digest[:8], "little")
    b = int.from_bytes(digest[8:], "little") | 1
    return [(a + i * b) % bits for i in range(hashes)]


class BloomFilter:
    """An in-memory Bloom filter; :meth:`add` says whether the item was (probably) there."""

    def __init__(self, capacity: int = CAPACITY, error_rate: float = ERROR_RATE) -> None:
        self.bits, self.hashes = bloom_size(capacity, error_rate)
        self.array = bytearray((self.bits + 7) // 8)

    def __contains__(self, item: str) -> bool:
        array = self.array
        return all(
            array[pos >> 3] & (1 << (pos & 7)) for pos in _positions(item, self.bits, self.hashes)
        )

    def add(self, item: str) -> bool:
        present = True
        array = self.array
        for pos in _positions(item, self.bits, self.hashes):
            byte, bit = divmod(pos, 8)
            if not array[byte] & (1 << bit):
                present = False
                array[byte] |= 1 << bit
        return present


_CHECK_AND_SET = """
local present = 1
for i, pos in ipairs(ARGV) do
  if redis.call('SETBIT', KEYS[1], pos, 1) == 0 then present = 0 end
end
return present
"""

_TEST = """
for i, pos in ipairs(ARGV) do
  if redis.call('GETBIT', KEYS[1], pos) == 0 then return 0 end
end
return 1
"""


class RedisBloomFilter:
    """The same filter as one Redis string shared by every crawler process."""

    def __init__(
        self, client: Any, key: str, capacity: int = CAPACITY, error_rate: float = ERROR_RATE
    ) -> None:
        self.bits, self.hashes = bloom_size(capacity, error_rate)
        self.key = key
        self.script = client.register_script(_CHECK_AND_SET)
        self.test = client.register_script(_TEST)

    def positions(self, item: str) -> list[int]:
        return _positions(item, self.bits, self.hashes)

    def __contains__(self, item: str) -> bool:
        return bool(self.test(keys=[self.key], args=self.positions(item)))

    def add(self, item: str) -> bool:
        return bool(self.script(keys=[self.key], args=self.positions(item)))


_WINDOW = """
local last = redis.call('GET', KEYS[1])
if last and (tonumber(ARGV[1]) - tonumber(last)) < tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1
"""


class SourceWindow:
    """Lets a list URL through again only once ``window`` seconds have passed since the last time.

    The window is per request: a scheduled source visit passes after a short one,
    a list page merely linked from another after a long one.
    """

    def __init__(self, longest: float, client: Any = None, prefix: str = "") -> None:
        self.longest = longest
        self.prefix = prefix
        self.script = client.register_script(_WINDOW) if client is not None else None
        self.last: dict[str, float] = {}

    def admit(self, url: str, window: float) -> bool:
        now = time.time()
        if self.script is not None:
            ttl = max(1, int(self.longest * 1000) + 1000)
            return bool(self.script(keys=[f"{self.prefix}:{url}"], args=[now, window, ttl]))
        if now - self.last.get(url, -math.inf) < window:
            return False
        self.last[url] = now
        return True


def pending_of(request: Request) -> Pending:
    """What the crawl state keeps of a request to rebuild it after a restart."""
    article = request.cb_kwargs.get("article")
    outlet = str(request.meta.get(OUTLET_META, ""))
    return Pending(request.url, outlet, str(request.meta.get(KIND_META)), article)


class SeenFilter:
    """A Scrapy dupefilter (also for the scrapy-redis scheduler) built on the above."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.bloom: BloomFilter | RedisBloomFilter | None = None
        self.window: SourceWindow | None = None
        self.short = 0.0
        self.long = 0.0

    @classmethod
    def from_crawler(cls, crawler: Any) -> SeenFilter:
        return cls(crawler)

    @classmethod
    def from_spider(cls, spider: Any) -> SeenFilter:
        """The scrapy-redis scheduler's constructor."""
        return cls(spider.crawler)

    def clear(self) -> None:
        """Shared state outlives one process; nothing to clear."""

    def _setup(self) -> None:
        settings = self.crawler.settings
        capacity = settings.getint("KUAIZHAO_SEEN_CAPACITY", CAPACITY)
        shortest = settings.getfloat("KUAIZHAO_LIST_INTERVAL_MIN", 300.0)
        longest = settings.getfloat("KUAIZHAO_LIST_INTERVAL_MAX", 86400.0)
        # A scheduled source visit passes after half its shortest interval; list pages
        # reached from it (channels, pagination) at most once per half the longest.
        self.short, self.long = shortest * 0.5, max(shortest, longest * 0.5)
        client = getattr(self.crawler.spider, "redis", None)
        if client is not None:
            prefix = settings.get("KUAIZHAO_REDIS_PREFIX", "kuaizhao")
            self.bloom = RedisBloomFilter(client, f"{prefix}:seen", capacity, ERROR_RATE)
            self.window = SourceWindow(self.long, client, f"{prefix}:list")
        else:
            self.bloom = BloomFilter(capacity, ERROR_RATE)
            self.window = SourceWindow(self.long)

    @property
    def state(self) -> CrawlState | None:
        return getattr(self.crawler.spider, "state", None)

    def open(self) -> None:
        if self.bloom is None:
            self._setup()

    def close(self, reason: str = "") -> None:
        if self.state is not None:
            self.state.commit()

    def _marks_on_push(self) -> bool:
        """The scheduler's queue sets a request's Bloom bits as it pushes it."""
        frontier = getattr(self.crawler.spider, "frontier", None)
        return bool(getattr(frontier, "marks_seen", False))

    def request_seen(self, request: Request) -> bool:
        if self.bloom is None or self.window is None:
            self._setup()
        assert self.bloom is not None and self.window is not None
        kind = request.meta.get(KIND_META)
        if kind in SOURCE_KINDS:
            window = self.short if request.meta.get(SOURCE_META) else self.long
            return not self.window.admit(request.url, window)
        bloom = self.bloom
        if isinstance(bloom, RedisBloomFilter) and self._marks_on_push():
            # Tested only: the queue's push marks it, with the push (see the module's doc).
            if request.url in bloom:
                return True
            if self._captured(request):
                bloom.add(request.url)  # no push will mark it
                return True
            request.meta[MARK_META] = (bloom.key, bloom.positions(request.url))
            return False
        return bloom.add(request.url) or self._captured(request)

    def _captured(self, request: Request) -> bool:
        """Captured in an earlier run (else recorded as pending in the crawl state)."""
        state = self.state
        if state is None:
            return False
        if state.is_done(request.url):
            self.crawler.stats.inc_value("kuaizhao/already_captured")
            return True
        state.add_pending([pending_of(request)])
        if request.meta.get("redirect_urls"):
            # The redirecting response is recorded (done) already, and nothing derives this
            # request again after a restart: it must be durable before it can be lost.
            state.commit()
        return False

    def log(self, request: Request, spider: Any) -> None:
        """Duplicates are expected and not logged."""
