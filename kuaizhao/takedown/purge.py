"""``kuaizhao takedown purge``: delete what a request removed from the WARC files themselves.

Each affected file is rewritten without the records of the purged URLs (and the metadata
records that refer to them), every other record copied byte for byte as the gzip member it
is; the new file is written beside the old one, fsynced, and renamed over it. The catalogue
(captures, articles, versions, search index, the file's size and record count) changes in
the same database transaction as the renames, so it never points into the old layout.
The request's rules stay in force: the crawler does not fetch the pages again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.db.models import Q

from kuaizhao import conf
from kuaizhao.archive import searching
from kuaizhao.archive.models import Article, Capture, WarcFile
from kuaizhao.lib.surt import BadUrl, surt
from kuaizhao.takedown import actions, visibility
from kuaizhao.takedown.models import Request
from kuaizhao.warc.reader import DEFAULT_MAX_RECORD, _iter_records, _Record

SUFFIX = ".purge"


class PurgeError(ValueError):
    pass


@dataclass
class Rewrite:
    path: Path
    temp: Path
    moves: dict[int, int] = field(default_factory=dict)
    """Old offset -> new offset of every record kept."""
    dropped: int = 0


@dataclass
class PurgeStats:
    files: int = 0
    records: int = 0
    captures: int = 0
    articles: int = 0


def rewrite_without(path: Path, drop: Callable[[str], bool]) -> Rewrite | None:
    """Write ``path`` minus the records whose target URI ``drop`` accepts (and those that
    refer to such a record) to a temporary file beside it, fsynced; None if nothing would
    go."""
    result = Rewrite(path, path.with_name(path.name + SUFFIX))
    ranges: list[_Record] = []
    gone: set[str] = set()
    with path.open("rb") as src:
        for record in _iter_records(src, str(path), DEFAULT_MAX_RECORD):
            target = record.get("WARC-Target-URI") or ""
            refers = {record.get("WARC-Concurrent-To"), record.get("WARC-Refers-To")}
            if record.type != "warcinfo" and (drop(target) or refers & gone):
                gone.add(record.get("WARC-Record-ID") or "")
                result.dropped += 1
            else:
                ranges.append(record)
        if not result.dropped:
            return None
        with result.temp.open("wb") as out:
            for record in ranges:
                result.moves[record.offset] = out.tell()
                src.seek(record.offset)
                out.write(src.read(record.length))
            out.flush()
            os.fsync(out.fileno())
    return result


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def purge(number: str, *, actor: str) -> PurgeStats:
    """Purge every capture whose governing rule belongs to approved request ``number``."""
    request = Request.objects.filter(number=number).first()
    if request is None:
        raise PurgeError(f"no takedown request {number}")
    if request.status != Request.Status.APPROVED:
        raise PurgeError(f"request {number} is {request.status}, not approved")
    own = set(request.rules.filter(visibility.in_force()).values_list("id", flat=True))
    if not own:
        raise PurgeError(f"request {number} has no rule in force")
    rules = visibility.load()

    def covered(key: str) -> bool:
        decision = rules.hides(key)
        return decision is not None and decision.rule_id in own

    def drop(uri: str) -> bool:
        try:
            return bool(uri) and covered(surt(uri))
        except BadUrl:
            return False

    where = Q()
    for rule in request.rules.filter(id__in=own):
        where |= Q(surt=rule.surt) if rule.exact else Q(surt__startswith=rule.surt)
    doomed = [
        c for c in Capture.objects.filter(where).only("id", "surt", "warc_file") if covered(c.surt)
    ]
    stats = PurgeStats()
    directory = conf.warc_dir()
    rewrites: list[Rewrite] = []
    try:
        for name in sorted({c.warc_file for c in doomed}):
            done = rewrite_without(directory / name, drop)
            if done is not None:
                rewrites.append(done)
        with transaction.atomic():
            keys = {c.surt for c in doomed}
            articles = list(Article.objects.filter(surt__in=keys).values_list("id", flat=True))
            searching.unindex(articles)
            Article.objects.filter(id__in=articles).delete()
            Capture.objects.filter(id__in=[c.id for c in doomed]).delete()
            for rewrite in rewrites:
                kept = _move_captures(rewrite)
                WarcFile.objects.filter(name=rewrite.path.name).update(
                    size=rewrite.temp.stat().st_size, records=kept
                )
            stats = PurgeStats(
                files=len(rewrites),
                records=sum(r.dropped for r in rewrites),
                captures=len(doomed),
                articles=len(articles),
            )
            actions.audit(
                actor,
                "request.purge",
                request=request,
                detail=(
                    f"{stats.records} WARC records in {stats.files} files, "
                    f"{stats.captures} captures, {stats.articles} articles deleted"
                ),
            )
            for rewrite in rewrites:
                os.replace(rewrite.temp, rewrite.path)
            if rewrites:
                _fsync_dir(directory)
    finally:
        for rewrite in rewrites:
            rewrite.temp.unlink(missing_ok=True)
    return stats


def _move_captures(rewrite: Rewrite) -> int:
    """Point the remaining captures of a rewritten file at their new offsets; ascending, so
    no two rows ever share a position (records only move towards the start). Returns how
    many captures the file now holds."""
    rows = list(
        Capture.objects.filter(warc_file=rewrite.path.name)
        .order_by("offset")
        .values_list("id", "offset")
    )
    for pk, offset in rows:
        new = rewrite.moves.get(offset)
        if new is None:
            raise PurgeError(f"{rewrite.path.name} @ {offset}: the catalogue points at no record")
        if new != offset:
            Capture.objects.filter(id=pk).update(offset=new)
    return len(rows)
