"""Persistent crawl state: what was fetched, its validators and digest, and what is due when.

Two stores with one interface:

* :class:`SqliteState` (default): ``$KUAIZHAO_HOME/crawl-state.sqlite3``, owned
  by one crawler process at a time. It also keeps the pending frontier, so a
  killed crawler resumes where it stopped.
* :class:`RedisState` (``KUAIZHAO_REDIS_URL`` set): the same facts in Redis,
  shared by every crawler process; the frontier itself is the shared Redis
  request queue.

Schedules:

* sources (start/list pages, feeds, sitemaps) are re-visited adaptively: the
  interval halves after a visit that found new articles and doubles after one
  that found none, between ``list_min`` and ``list_max`` seconds.
* articles (and their continuation pages) are re-checked with conditional
  requests: first ``recheck_after`` seconds after capture, then at doubling
  intervals (up to :data:`RECHECK_MAX`); a change resets the interval; a 404
  or 410 is recorded and ends the re-checks. Images are never re-checked.

A fetch that failed for now (a 5xx, 408 or 429 answer, retries included, or no
answer at all: a timeout or a connection error once Scrapy's retries are spent)
does not count as done: the URL stays in the pending frontier, so a retry cut
short by a kill, or the next run, tries it again, until :data:`FAILED_FETCHES`
failed tries in a row make the failure final. A 404 or 410 is final at once.

A later page of a multi-page article is recorded with its article (the first
page's URL): its re-check is parsed as that page of that article.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from kuaizhao.warc import PriorCapture

STATE_FILE = "crawl-state.sqlite3"
RECHECK_MAX = 30 * 86400.0
"""Longest interval between two re-checks of one article."""
RECHECKED_KINDS = frozenset({"article", "part"})
SOURCE_KINDS = frozenset({"page", "feed", "sitemap"})
GONE = frozenset({404, 410})
FAILED_FETCHES = 6
"""Failed tries in a row (each retry counts: two runs of three tries) before giving up."""
NO_ANSWER = 0
"""The status of a :class:`Fetch` that got no answer (a timeout, a connection error)."""


def failed_for_now(status: int) -> bool:
    """A status worth another try later: a server error, a timeout answer, too many requests,
    or no answer at all."""
    return status >= 500 or status in (408, 429, NO_ANSWER)


_DONE = (
    "EXISTS (SELECT 1 FROM url u WHERE u.url = {url} AND (u.failures = 0"
    f" OR u.failures >= {FAILED_FETCHES} OR u.captured_at IS NOT NULL))"
)
"""SQL: the URL needs no fetch (again): captured, answered for good, or failed too often."""


@dataclass(frozen=True)
class Schedule:
    """Intervals in seconds."""

    recheck_after: float = 3600.0
    list_min: float = 300.0
    list_max: float = 86400.0


@dataclass(frozen=True)
class Pending:
    """A request discovered but not yet fetched (enough to rebuild it)."""

    url: str
    outlet: str
    kind: str
    article: str | None = None


@dataclass(frozen=True)
class Fetch:
    """One completed fetch, as the recorder saw it (or a download that got no answer:
    status :data:`NO_ANSWER`, ``tries`` the attempts it stands for, no WARC record)."""

    url: str
    outlet: str
    kind: str
    status: int
    digest: str | None
    record_type: str | None
    etag: str | None
    last_modified: str | None
    at: float
    warc_file: str | None = None
    offset: int | None = None
    record_id: str | None = None
    article: str | None = None
    """A later page's article (the first page's URL)."""
    tries: int = 1


class CrawlState(Protocol):
    schedule: Schedule

    def known_digests(self, until: float) -> dict[tuple[str, str], PriorCapture]: ...
    def is_done(self, url: str) -> bool: ...
    def validators(self, url: str) -> tuple[str | None, str | None]: ...
    def prior_capture(self, url: str) -> PriorCapture | None: ...
    def record(self, fetch: Fetch) -> None: ...
    def mark_expanded(self, url: str, derived: Iterable[Pending] = ()) -> None: ...
    def unexpanded(self) -> list[tuple[Pending, str, int]]: ...
    def add_pending(self, items: Iterable[Pending]) -> None: ...
    def pending(self) -> list[Pending]: ...
    def due_rechecks(self, now: float, limit: int) -> list[Pending]: ...
    def claim_source(self, url: str, outlet: str, kind: str, now: float) -> bool: ...
    def due_sources(self, now: float) -> list[Pending]: ...
    def visited_source(self, url: str, new_links: int, now: float) -> None: ...
    def commit(self) -> None: ...
    def close(self) -> None: ...


def next_interval(previous: float | None, changed: bool, schedule: Schedule) -> float:
    """The article re-check interval after a check (``changed``: new content)."""
    if previous is None or changed:
        return schedule.recheck_after
    return min(max(previous, 1.0) * 2.0, RECHECK_MAX)


def source_interval(previous: float | None, new_links: int, schedule: Schedule) -> float:
    """The source re-visit interval after a visit that found ``new_links`` new articles."""
    if previous is None:
        return schedule.list_min
    value = previous / 2.0 if new_links > 0 else previous * 2.0
    return min(max(value, schedule.list_min), schedule.list_max)


def _date(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS url (
    url TEXT PRIMARY KEY, outlet TEXT NOT NULL, kind TEXT NOT NULL, status INTEGER,
    digest TEXT, captured_at REAL, etag TEXT, last_modified TEXT,
    fetched_at REAL NOT NULL, next_check REAL, interval REAL, checks INTEGER NOT NULL DEFAULT 0,
    changes INTEGER NOT NULL DEFAULT 0, warc_file TEXT, warc_offset INTEGER,
    expanded INTEGER NOT NULL DEFAULT 1, record_id TEXT, article TEXT,
    failures INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS url_unexpanded ON url(expanded) WHERE expanded = 0;
CREATE INDEX IF NOT EXISTS url_due ON url(next_check) WHERE next_check IS NOT NULL;
CREATE TABLE IF NOT EXISTS frontier (
    url TEXT PRIMARY KEY, outlet TEXT NOT NULL, kind TEXT NOT NULL, article TEXT
);
CREATE TABLE IF NOT EXISTS source (
    url TEXT PRIMARY KEY, outlet TEXT NOT NULL, kind TEXT NOT NULL, interval REAL,
    next_visit REAL NOT NULL, visits INTEGER NOT NULL DEFAULT 0, found INTEGER NOT NULL DEFAULT 0
);
"""


class SqliteState:
    """The crawl state of one crawler process, in a SQLite file (WAL, commit per capture)."""

    def __init__(self, path: Path, schedule: Schedule | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.schedule = schedule or Schedule()
        self.db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=5000")
        self.db.executescript(_SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(url)")}
        if "record_id" not in columns:  # a state file from before revisits of 304s
            self.db.execute("ALTER TABLE url ADD COLUMN record_id TEXT")
        if "article" not in columns:  # from before later pages kept their article
            self.db.execute("ALTER TABLE url ADD COLUMN article TEXT")
        if "failures" not in columns:  # from before failed fetches were tried again
            self.db.execute("ALTER TABLE url ADD COLUMN failures INTEGER NOT NULL DEFAULT 0")
            self.db.execute(
                "UPDATE url SET failures = 1 WHERE captured_at IS NULL"
                " AND (status >= 500 OR status IN (408, 429))"
            )
        self.db.execute("BEGIN")

    def commit(self) -> None:
        if self.db.in_transaction:
            self.db.execute("COMMIT")
        self.db.execute("BEGIN")

    def close(self) -> None:
        if self.db.in_transaction:
            self.db.execute("COMMIT")
        self.db.close()

    def known_digests(self, until: float) -> dict[tuple[str, str], PriorCapture]:
        """Digests of what may be fetched again before ``until``: sources, and due re-checks.

        Bounded by what is due, not by all that was ever captured.
        """
        rows = self.db.execute(
            "SELECT url, digest, captured_at FROM url WHERE digest IS NOT NULL"
            " AND (next_check <= ? OR kind IN ('page', 'feed', 'sitemap'))",
            (until,),
        ).fetchall()
        return {(u, d): PriorCapture(u, _date(at)) for u, d, at in rows}

    def is_done(self, url: str) -> bool:
        """Fetched for good: captured, answered (a 404 too), or failed too often."""
        row = self.db.execute("SELECT " + _DONE.format(url="?"), (url,)).fetchone()
        return bool(row[0])

    def validators(self, url: str) -> tuple[str | None, str | None]:
        row = self.db.execute(
            "SELECT etag, last_modified FROM url WHERE url = ? AND status = 200", (url,)
        ).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def prior_capture(self, url: str) -> PriorCapture | None:
        """The last full capture of ``url`` (what a 304 answer confirms), if any."""
        row = self.db.execute(
            "SELECT digest, captured_at, record_id FROM url WHERE url = ? AND digest IS NOT NULL"
            " AND captured_at IS NOT NULL",
            (url,),
        ).fetchone()
        return PriorCapture(url, _date(row[1]), row[2], row[0]) if row else None

    def record(self, fetch: Fetch) -> None:
        row = self.db.execute(
            "SELECT digest, captured_at, interval, etag, last_modified, record_id FROM url"
            " WHERE url = ?",
            (fetch.url,),
        ).fetchone()
        digest, captured_at, interval, etag, last_modified, record_id = row or (None,) * 6
        changed = fetch.record_type == "response" and fetch.status == 200
        if changed:
            digest, captured_at = fetch.digest, fetch.at
            etag, last_modified = fetch.etag, fetch.last_modified
            record_id = fetch.record_id
        elif fetch.status == 304:
            etag = fetch.etag or etag
            last_modified = fetch.last_modified or last_modified
        # An article page is "expanded" once the links it yields are pending; until then a
        # restart re-parses it from its WARC record instead of fetching it again.
        expand = changed and fetch.kind in RECHECKED_KINDS and fetch.warc_file is not None
        # A later page keeps the article it belongs to (its pending entry names it), so a
        # re-parse after a restart files what it finds under that article.
        pending = self.db.execute(
            "SELECT article FROM frontier WHERE url = ?", (fetch.url,)
        ).fetchone()
        article = fetch.article or (pending[0] if pending else None)
        failed = failed_for_now(fetch.status)
        next_check: float | None = None
        new_interval: float | None = None
        if fetch.kind in RECHECKED_KINDS and fetch.status not in GONE:
            if failed:  # try again later
                new_interval = interval
                next_check = fetch.at + self.schedule.recheck_after
            else:
                new_interval = next_interval(interval, changed or row is None, self.schedule)
                next_check = fetch.at + new_interval
        self.db.execute(
            "INSERT INTO url (url, outlet, kind, status, digest, captured_at, etag, last_modified,"
            " fetched_at, next_check, interval, checks, changes, warc_file, warc_offset, expanded,"
            " record_id, article, failures) VALUES (?,?,?,?,?,?,?,?,?,?,?,1,?,?,?,?,?,?,?)"
            " ON CONFLICT(url) DO UPDATE SET status=excluded.status, digest=excluded.digest,"
            " captured_at=excluded.captured_at, etag=excluded.etag,"
            " last_modified=excluded.last_modified, fetched_at=excluded.fetched_at,"
            " next_check=excluded.next_check, interval=excluded.interval, checks=checks+1,"
            " changes=changes+excluded.changes, warc_file=excluded.warc_file,"
            " warc_offset=excluded.warc_offset, expanded=excluded.expanded,"
            " record_id=excluded.record_id, article=coalesce(excluded.article, url.article),"
            " failures=CASE WHEN excluded.failures > 0 THEN url.failures + excluded.failures"
            " ELSE 0 END",
            (
                fetch.url, fetch.outlet, fetch.kind, fetch.status, digest, captured_at, etag,
                last_modified, fetch.at, next_check, new_interval, int(changed),
                fetch.warc_file, fetch.offset, 0 if expand else 1, record_id, article,
                max(1, fetch.tries) if failed else 0,
            ),
        )  # fmt: skip
        # A failure for now keeps its pending entry: a kill before Scrapy's retry, or the
        # end of the run, must not turn it into a URL never tried again.
        self.db.execute(
            "DELETE FROM frontier WHERE url = ? AND " + _DONE.format(url="frontier.url"),
            (fetch.url,),
        )
        self.commit()

    def mark_expanded(self, url: str, derived: Iterable[Pending] = ()) -> None:
        """Note that the page at ``url`` was parsed, with the requests ``derived`` from it.

        The derived requests not captured yet go to the frontier in the same commit: Scrapy
        schedules a callback's requests only after the callback has run to its end, so a
        crawler killed in between must find them here (the page is not parsed again).
        """
        self.db.executemany(
            "INSERT OR IGNORE INTO frontier (url, outlet, kind, article) SELECT ?, ?, ?, ?"
            " WHERE NOT " + _DONE.format(url="?"),
            [(p.url, p.outlet, p.kind, p.article, p.url) for p in derived],
        )
        self.db.execute("UPDATE url SET expanded = 1 WHERE url = ? AND expanded = 0", (url,))
        self.commit()

    def reconcile(self, captures: Iterable[Any]) -> int:
        """Record pending requests whose capture reached a WARC file just before a crash.

        ``captures`` are :class:`~kuaizhao.warc.WarcCapture` objects of a recovered file;
        returns how many were recorded now (so they are not fetched again).
        """
        done = 0
        for capture in captures:
            row = self.db.execute(
                "SELECT f.outlet, f.kind FROM frontier f WHERE f.url = ?"
                " AND NOT " + _DONE.format(url="f.url"),
                (capture.url,),
            ).fetchone()
            if row is None:
                continue
            at = capture.captured_at.timestamp()
            self.record(
                Fetch(
                    url=capture.url, outlet=row[0], kind=row[1], status=capture.status,
                    digest=capture.payload_digest, record_type=capture.record_type,
                    etag=capture.header("ETag"), last_modified=capture.header("Last-Modified"),
                    at=at, warc_file=capture.warc_file, offset=capture.offset,
                    record_id=capture.record_id or None,
                )
            )  # fmt: skip
            done += 1
        return done

    def unexpanded(self) -> list[tuple[Pending, str, int]]:
        """Article pages captured but not parsed yet (a later page with its article's URL)."""
        rows = self.db.execute(
            "SELECT url, outlet, kind, article, warc_file, warc_offset FROM url WHERE expanded = 0"
        ).fetchall()
        return [(Pending(u, o, k, a), f, off) for u, o, k, a, f, off in rows]

    def add_pending(self, items: Iterable[Pending]) -> None:
        self.db.executemany(
            "INSERT OR IGNORE INTO frontier (url, outlet, kind, article) VALUES (?,?,?,?)",
            [(p.url, p.outlet, p.kind, p.article) for p in items],
        )

    def pending(self) -> list[Pending]:
        rows = self.db.execute(
            "SELECT f.url, f.outlet, f.kind, f.article FROM frontier f"
            " WHERE NOT " + _DONE.format(url="f.url") + " ORDER BY f.rowid"
        ).fetchall()
        return [Pending(*row) for row in rows]

    def due_rechecks(self, now: float, limit: int) -> list[Pending]:
        """Article pages due for a re-check (a later page with its article's URL)."""
        rows = self.db.execute(
            "SELECT url, outlet, kind, article, interval FROM url WHERE next_check <= ? "
            "ORDER BY next_check LIMIT ?",
            (now, limit),
        ).fetchall()
        # Claimed: not due again until this check is recorded or its interval passes.
        self.db.executemany(
            "UPDATE url SET next_check = ? WHERE url = ?",
            [(now + max(row[4] or 0.0, 60.0), row[0]) for row in rows],
        )
        return [Pending(*row[:4]) for row in rows]

    def claim_source(self, url: str, outlet: str, kind: str, now: float) -> bool:
        """Note a visit to a source starting now; False if it is not due yet."""
        row = self.db.execute(
            "SELECT next_visit, interval FROM source WHERE url = ?", (url,)
        ).fetchone()
        if row is not None and row[0] > now:
            return False
        interval = row[1] if row and row[1] else self.schedule.list_min
        self.db.execute(
            "INSERT INTO source (url, outlet, kind, interval, next_visit) VALUES (?,?,?,?,?)"
            " ON CONFLICT(url) DO UPDATE SET next_visit = excluded.next_visit",
            (url, outlet, kind, interval, now + interval),
        )
        return True

    def due_sources(self, now: float) -> list[Pending]:
        rows = self.db.execute(
            "SELECT url, outlet, kind FROM source WHERE next_visit <= ? ORDER BY next_visit",
            (now,),
        ).fetchall()
        return [Pending(*row) for row in rows if self.claim_source(row[0], row[1], row[2], now)]

    def visited_source(self, url: str, new_links: int, now: float) -> None:
        row = self.db.execute("SELECT interval FROM source WHERE url = ?", (url,)).fetchone()
        if row is None:
            return
        interval = source_interval(row[0], new_links, self.schedule)
        self.db.execute(
            "UPDATE source SET interval = ?, next_visit = ?, visits = visits + 1,"
            " found = found + ? WHERE url = ?",
            (interval, now + interval, new_links, url),
        )


_CLAIM = """
local due = redis.call('ZSCORE', KEYS[1], ARGV[1])
if due and tonumber(due) > tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
"""
"""Move a member's score to ARGV[3] only if it is due (score <= ARGV[2]) or absent."""


class RedisState:
    """The crawl state shared by every crawler process, in Redis under ``prefix``.

    Keys: ``<prefix>:url`` (hash url -> "status digest captured_at etag last_modified
    interval", tab-separated), ``<prefix>:recheck`` (sorted set url by next check),
    ``<prefix>:outlet`` (hash url -> "outlet kind article", the article of a later page),
    ``<prefix>:source`` (sorted set of source URLs by next visit), ``<prefix>:source:info``
    (hash url -> "outlet kind interval"); a Lua script moves a due entry to its next time,
    so one process takes it.
    """

    def __init__(self, client: Any, prefix: str, schedule: Schedule | None = None) -> None:
        self.r = client
        self.prefix = prefix
        self.schedule = schedule or Schedule()
        self._claim = client.register_script(_CLAIM)

    def _claimed(self, key: str, url: str, now: float, until: float) -> bool:
        return bool(self._claim(keys=[self._k(key)], args=[url, now, until]))

    def _k(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def commit(self) -> None:
        """Every write goes straight to Redis."""

    def close(self) -> None:
        self.r.close()

    def _row(self, url: str) -> list[str] | None:
        raw = self.r.hget(self._k("url"), url)
        if raw is None:
            return None
        return str(raw.decode() if isinstance(raw, bytes) else raw).split("\t")

    def known_digests(self, until: float) -> dict[tuple[str, str], PriorCapture]:
        out: dict[tuple[str, str], PriorCapture] = {}
        due = self.r.zrangebyscore(self._k("recheck"), "-inf", until)
        sources = self.r.hkeys(self._k("source:info"))
        for key in [*due, *sources]:
            url = key.decode() if isinstance(key, bytes) else key
            row = self._row(url)
            if row and row[1] and row[2]:
                out[(url, row[1])] = PriorCapture(url, _date(float(row[2])))
        return out

    def is_done(self, url: str) -> bool:
        return bool(self.r.hexists(self._k("url"), url))

    def validators(self, url: str) -> tuple[str | None, str | None]:
        row = self._row(url)
        if not row or row[0] != "200":
            return None, None
        return row[3] or None, row[4] or None

    def prior_capture(self, url: str) -> PriorCapture | None:
        row = self._row(url)
        if not row or not row[1] or not row[2]:
            return None
        record_id = row[6] if len(row) > 6 and row[6] else None
        return PriorCapture(url, _date(float(row[2])), record_id, row[1])

    def record(self, fetch: Fetch) -> None:
        row = self._row(fetch.url)
        _, digest, captured, etag, modified, interval, record_id = ([*(row or [])] + [""] * 7)[:7]
        changed = fetch.record_type == "response" and fetch.status == 200
        if changed:
            digest, captured = fetch.digest or "", str(fetch.at)
            etag, modified = fetch.etag or "", fetch.last_modified or ""
            record_id = fetch.record_id or ""
        elif fetch.status == 304:
            etag, modified = fetch.etag or etag, fetch.last_modified or modified
        pipe = self.r.pipeline()
        new_interval = ""
        if fetch.kind in RECHECKED_KINDS and fetch.status not in GONE:
            value = next_interval(float(interval) if interval else None, changed, self.schedule)
            if failed_for_now(fetch.status):  # try again later
                value = self.schedule.recheck_after
            new_interval = str(value)
            pipe.zadd(self._k("recheck"), {fetch.url: fetch.at + value})
            info = f"{fetch.outlet}\t{fetch.kind}\t{fetch.article or ''}"
            pipe.hset(self._k("outlet"), fetch.url, info)
        else:
            pipe.zrem(self._k("recheck"), fetch.url)
        status = str(fetch.status) if fetch.status != 304 else (row[0] if row else "304")
        fields = (status, digest, captured, etag, modified, new_interval, record_id)
        pipe.hset(self._k("url"), fetch.url, "\t".join(fields))
        pipe.execute()

    def mark_expanded(self, url: str, derived: Iterable[Pending] = ()) -> None:
        """Redis mode does not re-parse from WARC records (see docs/scale-out.md)."""

    def unexpanded(self) -> list[tuple[Pending, str, int]]:
        return []

    def add_pending(self, items: Iterable[Pending]) -> None:
        """The shared Redis request queue is the frontier."""

    def pending(self) -> list[Pending]:
        return []

    def due_rechecks(self, now: float, limit: int) -> list[Pending]:
        out = []
        for raw in self.r.zrangebyscore(self._k("recheck"), "-inf", now, start=0, num=limit):
            url = raw.decode() if isinstance(raw, bytes) else raw
            if not self._claimed("recheck", url, now, now + 60.0):
                continue  # another crawler took it
            info = self.r.hget(self._k("outlet"), url)
            if info is None:
                continue
            outlet, kind, *rest = (info.decode() if isinstance(info, bytes) else info).split("\t")
            out.append(Pending(url, outlet, kind, rest[0] if rest and rest[0] else None))
        return out

    def claim_source(self, url: str, outlet: str, kind: str, now: float) -> bool:
        info = self.r.hget(self._k("source:info"), url)
        interval = self.schedule.list_min
        if info is not None:
            interval = float((info.decode() if isinstance(info, bytes) else info).split("\t")[2])
        else:
            self.r.hsetnx(self._k("source:info"), url, f"{outlet}\t{kind}\t{interval}")
        return self._claimed("source", url, now, now + interval)

    def due_sources(self, now: float) -> list[Pending]:
        out = []
        for raw in self.r.zrangebyscore(self._k("source"), "-inf", now):
            url = raw.decode() if isinstance(raw, bytes) else raw
            info = self.r.hget(self._k("source:info"), url)
            if info is None:
                continue
            outlet, kind, _ = (info.decode() if isinstance(info, bytes) else info).split("\t")
            if self.claim_source(url, outlet, kind, now):
                out.append(Pending(url, outlet, kind))
        return out

    def visited_source(self, url: str, new_links: int, now: float) -> None:
        info = self.r.hget(self._k("source:info"), url)
        if info is None:
            return
        outlet, kind, previous = (info.decode() if isinstance(info, bytes) else info).split("\t")
        interval = source_interval(float(previous), new_links, self.schedule)
        self.r.hset(self._k("source:info"), url, f"{outlet}\t{kind}\t{interval}")
        self.r.zadd(self._k("source"), {url: now + interval})


def open_state(
    home: Path, schedule: Schedule, redis_url: str = "", prefix: str = "kuaizhao"
) -> CrawlState:
    """The Redis store when ``redis_url`` is given, else the SQLite file under ``home``."""
    if redis_url:
        import redis

        return RedisState(redis.Redis.from_url(redis_url), prefix, schedule)
    return SqliteState(Path(home) / STATE_FILE, schedule)


def now() -> float:
    return time.time()
