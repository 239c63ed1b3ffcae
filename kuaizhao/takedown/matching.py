"""Takedown rules as a longest-prefix matcher over SURT keys, and a reader of the rules in
force straight from the catalogue database, for processes that run without Django (the
crawler)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

VERBS = ("exclude", "block", "allow")


@dataclass(frozen=True)
class Decision:
    verb: str
    rule_id: int
    reference: str


@dataclass(frozen=True)
class RuleRow:
    id: int
    surt: str
    exact: bool
    verb: str
    reference: str


class RuleSet:
    """The rules in force at one moment, indexed for longest-prefix lookups.

    The longest key that matches a SURT wins; an ``exact`` key beats a prefix of the same
    length, and of two rules on the same key the newer one.
    """

    def __init__(self, rules: Iterable[RuleRow]) -> None:
        self.prefix: dict[str, Decision] = {}
        self.exact: dict[str, Decision] = {}
        for rule in sorted(rules, key=lambda r: r.id):
            target = self.exact if rule.exact else self.prefix
            target[rule.surt] = Decision(rule.verb, rule.id, rule.reference)
        self.lengths = sorted({len(key) for key in self.prefix}, reverse=True)

    def __bool__(self) -> bool:
        return bool(self.prefix or self.exact)

    def __len__(self) -> int:
        return len(self.prefix) + len(self.exact)

    def decide(self, key: str) -> Decision | None:
        """The rule that governs SURT ``key``, or None when none does."""
        found = self.exact.get(key)
        if found is not None:
            return found
        for length in self.lengths:
            if length <= len(key):
                found = self.prefix.get(key[:length])
                if found is not None:
                    return found
        return None

    def hides(self, key: str) -> Decision | None:
        """The governing rule if it hides ``key`` (an ``allow`` rule hides nothing)."""
        found = self.decide(key)
        return found if found is not None and found.verb != "allow" else None


def reference(rule_id: int, request_number: str | None) -> str:
    """What a 451 names: the request's number, or the rule's own for an operator's rule."""
    return request_number or f"R{rule_id}"


_QUERY = (
    "SELECT r.id, r.surt, r.exact, r.verb, q.number, r.starts_at, r.ends_at "
    "FROM takedown_rule r LEFT JOIN takedown_request q ON q.id = r.request_id "
    "WHERE r.revoked_at IS NULL"
)


def _moment(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def rows_in_force(rows: Iterable[tuple[Any, ...]], now: datetime) -> list[RuleRow]:
    kept = []
    for rule_id, key, exact, verb, number, starts, ends in rows:
        start, end = _moment(starts), _moment(ends)
        if (start is None or start <= now) and (end is None or end > now):
            kept.append(RuleRow(int(rule_id), key, bool(exact), verb, reference(rule_id, number)))
    return kept


def read_rules(database_url: str, sqlite_path: str, now: datetime | None = None) -> RuleSet:
    """The rules in force in the catalogue at ``database_url`` (PostgreSQL) or, when that is
    empty, the SQLite file at ``sqlite_path``. A catalogue without the table has no rules."""
    now = now or datetime.now(UTC)
    if database_url:
        import psycopg

        with psycopg.connect(database_url, connect_timeout=5) as pg:
            try:
                rows = pg.execute(_QUERY).fetchall()
            except psycopg.errors.UndefinedTable:
                return RuleSet([])
    else:
        if not Path(sqlite_path).exists():  # no catalogue yet: nothing was ever removed
            return RuleSet([])
        conn = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True, timeout=5)
        try:
            rows = conn.execute(_QUERY).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return RuleSet([])
            raise
        finally:
            conn.close()
    return RuleSet(rows_in_force(rows, now))
