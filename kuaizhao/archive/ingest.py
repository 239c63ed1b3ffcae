"""WARC files in, catalogue rows out.

Ingest runs in two passes. The first records where every response and revisit record is
(``Capture``), one transaction per WARC file, so a file is either wholly in the catalogue
or not at all. The second extracts the captures that are article pages, follows their
continuation pages through the captures already recorded, and writes ``Article`` rows,
putting each into its story and the search index (``kuaizhao.archive.searching.save``). The
article pages of a batch are extracted in a worker process (``kuaizhao.extract.pool``)
while the batch's earlier articles are written. Running it twice does nothing the second
time; ``reindex`` starts from empty.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max, Q, QuerySet

from kuaizhao import conf
from kuaizhao import extract as extraction
from kuaizhao.archive import searching, signals
from kuaizhao.archive.models import Article, ArticleVersion, Capture, Outlet, WarcFile
from kuaizhao.extract.pages import first_page_url
from kuaizhao.extract.pool import Prefetcher
from kuaizhao.lib.outlets import CATEGORY_NAMES, outlet_for
from kuaizhao.lib.outlets import Outlet as OutletConfig
from kuaizhao.lib.surt import canonicalize, surt
from kuaizhao.takedown import visibility
from kuaizhao.warc.reader import (
    WarcCapture,
    WarcError,
    iter_captures,
    list_warc_files,
)

log = logging.getLogger(__name__)

HTML_MIMES = ("text/html", "application/xhtml+xml")
MAX_PAGES = 20
BATCH = 200


@dataclass
class IngestStats:
    files: int = 0
    captures: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    completed: int = 0
    """Versions completed in place by a later page that came in a later WARC file."""
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def _capture_row(cap: WarcCapture) -> Capture:
    return Capture(
        url=cap.url,
        surt=surt(cap.url),
        captured_at=cap.captured_at,
        status=cap.status,
        mime=cap.content_type[:100],
        record_type=cap.record_type,
        warc_file=cap.warc_file,
        offset=cap.offset,
        length=cap.length,
        payload_digest=cap.payload_digest or "",
        outlet=cap.outlet or "",
    )


def index_file(path: Path, stats: IngestStats) -> None:
    """Record every capture of one closed WARC file (all or nothing)."""
    rows: list[Capture] = []
    try:
        rows.extend(_capture_row(cap) for cap in iter_captures(path))
    except WarcError as exc:
        stats.errors.append(f"{path.name}: {exc} (kept {len(rows)} complete records)")
    with transaction.atomic():
        Capture.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
        WarcFile.objects.create(name=path.name, size=path.stat().st_size, records=len(rows))
    stats.files += 1
    stats.captures += len(rows)


def sync_outlets(outlets: Iterable[OutletConfig]) -> dict[str, Outlet]:
    """The ``Outlet`` row of every config, created or updated as the config says.

    Ingest runs every minute (every second in a benchmark): the rows are read in one query
    and only the new or changed ones written.
    """
    configs = list(outlets)
    known = {row.slug: row for row in Outlet.objects.filter(slug__in=[c.slug for c in configs])}
    rows = {}
    for config in configs:
        row = known.get(config.slug)
        if row is None or (row.name, row.home) != (config.name, config.home):
            row, _ = Outlet.objects.update_or_create(
                slug=config.slug, defaults={"name": config.name, "home": config.home}
            )
        rows[config.slug] = row
    return rows


class ArticleBuilder:
    """Turns article captures into ``Article`` rows."""

    def __init__(self, warc_dir: Path, outlets: list[OutletConfig], stats: IngestStats) -> None:
        self.warc_dir = warc_dir
        self.configs = {o.slug: o for o in outlets}
        self.outlets = sync_outlets(outlets)
        self.stats = stats
        self.extractions = Prefetcher(warc_dir)
        self._absent: set[str] = set()
        """SURTs of the current batch known to have no ``Article`` row yet."""
        self._newest: dict[str, datetime | None] = {}
        """The newest successful capture time of each SURT of the current batch."""
        self._awaited: set[str] = set()
        """SURTs of the current batch that versions name as their missing page."""

    def prefetch(self, batch: list[Capture], ahead: Sequence[Capture] = ()) -> None:
        """Look up, in three queries for the whole batch, what ``process`` would otherwise
        ask once per capture: which SURTs have no article yet, each SURT's newest capture,
        and which pages versions are waiting for; and start extracting the article pages of
        the batch, then of the captures ``ahead`` of it (the next batch), in the worker
        process. Running a batch ahead, the worker has the later pages that the batch's
        last articles ask for, taken after them, at hand.

        Captures are all indexed before articles are built, so the newest capture times
        hold for the whole batch; an article created meanwhile leaves ``_absent``.
        """
        keys = sorted({c.surt for c in batch})
        self._absent = set(keys)
        self._newest = dict.fromkeys(keys)
        self._awaited = set()
        for start in range(0, len(keys), _IN_CHUNK):
            chunk = keys[start : start + _IN_CHUNK]
            known = Article.objects.filter(surt__in=chunk).values_list("surt", flat=True)
            self._absent.difference_update(known)
            newest = (
                _touched(Capture.objects.filter(surt__in=chunk))
                .values("surt")
                .annotate(newest=Max("captured_at"))
                .values_list("surt", "newest")
            )
            self._newest.update(newest)
            waiting = _waiting().filter(missing_page__in=chunk)
            self._awaited.update(waiting.values_list("missing_page", flat=True))
        fetched = [c for c in (*batch, *ahead) if c.record_type != "revisit"]
        self.extractions.submit(
            (c.warc_file, c.offset, c.url, c.captured_at)
            for c in fetched
            if self.is_candidate(c, self.config_for(c)) or self.is_later_page(c)
        )

    def article(self, key: str) -> Article | None:
        """The article at SURT ``key``, if there is one (no query when known to be absent)."""
        if key in self._absent:
            return None
        return Article.objects.filter(surt=key).first()

    def touch(self, row: Article, earliest: datetime | None = None) -> bool:
        """:func:`_touch` with the newest capture time prefetched for the batch."""
        if row.surt in self._newest:
            return _touch(row, earliest, newest=self._newest[row.surt])
        return _touch(row, earliest)

    def config_for(self, capture: Capture) -> OutletConfig | None:
        return self.configs.get(capture.outlet) or outlet_for(capture.url, self.configs.values())

    def is_candidate(self, capture: Capture, config: OutletConfig | None) -> bool:
        if capture.status != 200 or capture.mime not in HTML_MIMES:
            return False
        if config is None:
            return False
        if config.article_patterns:
            return config.is_article_url(capture.url)
        return not config.is_ignored(capture.url)

    def is_later_page(self, capture: Capture) -> bool:
        """Whether the URL names a later page of a candidate (``…_2.html``): an outlet's
        article patterns need not match it, but its article will ask for it."""
        first = first_page_url(capture.url)
        if first is None:
            return False
        page_one = Capture(url=first, status=capture.status, mime=capture.mime)
        return self.is_candidate(page_one, self.config_for(capture))

    def extract_at(self, capture: Capture) -> extraction.Article:
        return self.extractions.get(
            capture.warc_file, capture.offset, capture.url, capture.captured_at
        )

    def continuation(self, url: str, near: datetime) -> Capture | None:
        """The capture of a continuation page taken closest to ``near`` (the first page's).

        Choosing by distance in time, not by what was ingested last, makes the merged
        article the same whichever order WARC files are ingested in.
        """
        before = after = None  # the last capture at or before ``near``, the first after it
        for row in Capture.objects.filter(surt=surt(url), status=200, record_type="response"):
            at = row.captured_at
            if at <= near:
                if before is None or (at, -row.id) > (before.captured_at, -before.id):
                    before = row
            elif after is None or (at, row.id) < (after.captured_at, after.id):
                after = row
        if before is None or after is None:
            return before or after
        return before if near - before.captured_at <= after.captured_at - near else after

    def extract_article(
        self, capture: Capture, trusted: bool
    ) -> tuple[extraction.Article | None, str]:
        """The article a capture holds, continuation pages merged (None if it holds none),
        and the SURT of the first later page it names that is not captured yet ("" if
        none: every page was there, or the pages link in a loop).

        ``trusted``: the outlet's config says this URL is an article, so a page too short
        for the extractor's own judgement (a news flash) still counts.
        """
        first = self.extract_at(capture)
        if (not first.is_article and not trusted) or first.page_number > 1:
            return None, ""
        pages, seen = [first], {surt(capture.url)}
        while (url := pages[-1].next_page_url) and len(pages) < MAX_PAGES:
            key = surt(url)
            if key in seen:
                break
            nxt = self.continuation(url, capture.captured_at)
            if nxt is None:
                return (extraction.merge_pages(pages) if len(pages) > 1 else first), key
            seen.add(key)
            pages.append(self.extract_at(nxt))
        return (extraction.merge_pages(pages) if len(pages) > 1 else first), ""

    def process(self, capture: Capture) -> None:
        config = self.config_for(capture)
        fetched = capture.record_type == "response" and capture.status == 200
        if fetched and capture.surt in self._awaited:
            self._awaited.discard(capture.surt)
            self.complete(capture.surt)
        if capture.record_type == "revisit":
            existing = self.article(capture.surt)
            if existing is not None:
                self.stats.unchanged += 1
                if self.touch(existing):
                    existing.save(update_fields=["first_captured_at", "last_captured_at"])
            return
        if not self.is_candidate(capture, config):
            return
        try:
            trusted = _trusted(config)
            article, missing = self.extract_article(capture, trusted)
        except (WarcError, OSError) as exc:
            self.stats.errors.append(f"{capture.url}: cannot read capture: {exc}")
            _failed(capture, config, f"cannot read capture: {exc}")
            return
        if article is None or not article.title or not article.body_text:
            self.stats.skipped += 1
            if trusted and article is not None:  # None: a later page, merged into its first
                _failed(capture, config, "no title" if not article.title else "no body text")
            return
        self.store(capture, config, article, missing)

    def complete(self, key: str) -> None:
        """Extract again the versions that were waiting for the later page at SURT ``key``,
        captured now, and update them in place: the same capture, now with its page.

        No ``article_saved``: the article did not change, its archive caught up.
        """
        waiting = _waiting().filter(missing_page=key).select_related("article", "capture")
        for version in waiting:
            capture = version.capture
            try:
                article, missing = self.extract_article(capture, _trusted(self.config_for(capture)))
            except (WarcError, OSError) as exc:
                self.stats.errors.append(f"{capture.url}: cannot read capture: {exc}")
                continue
            if article is None or not article.title or not article.body_text:
                continue
            digest = _digest(article)
            self.fill(version, capture, article, digest, missing)
            version.save()
            row = version.article
            in_force = row.capture_id == version.capture_id
            # Completed, it may now equal a neighbour: fold them as ``store`` would have.
            history = list(row.versions.order_by("captured_at", "id"))
            at = next(i for i, v in enumerate(history) if v.pk == version.pk)
            following = history[at + 1] if at + 1 < len(history) else None
            if following is not None and following.content_hash == digest:
                in_force |= row.capture_id == following.capture_id
                following.delete()  # it showed nothing new after all
            if at > 0 and history[at - 1].content_hash == digest:
                version.delete()  # nor did this one, complete
                version = history[at - 1]
            if in_force:
                version.apply_to(row)
                searching.save(row)
                visibility.ingested(row)
            self.stats.completed += 1

    def store(
        self,
        capture: Capture,
        config: OutletConfig | None,
        article: extraction.Article,
        missing: str = "",
    ) -> None:
        """Record what ``capture`` shows: a new article, a new version, or nothing new.

        Versions follow capture time, not ingest order: a capture older than the newest
        version is compared with the version in force at its time, so ingesting WARC files
        in any order, or all at once by ``reindex``, ends in the same versions.
        """
        digest = _digest(article)
        row = self.article(capture.surt)
        if row is None:
            row = Article(surt=capture.surt)
            history: list[ArticleVersion] = []
        else:
            history = list(row.versions.order_by("captured_at", "id"))
        at = capture.captured_at
        previous = [v for v in history if v.captured_at <= at]
        if previous and previous[-1].content_hash == digest:
            self.stats.unchanged += 1
            if self.touch(row):
                row.save(update_fields=["first_captured_at", "last_captured_at"])
            return
        version = ArticleVersion(captured_at=at)
        self.fill(version, capture, article, digest, missing)
        following = [v for v in history if v.captured_at > at]
        if following and following[0].content_hash == digest:
            following.pop(0).delete()  # it showed nothing new after all
        latest = following[-1] if following else version
        if latest is version:
            self.describe(row, capture, config, article.category_hint)
        latest.apply_to(row)
        self.touch(row, earliest=min([at, *(v.captured_at for v in history)]))
        searching.save(row)
        self._absent.discard(row.surt)
        visibility.ingested(row, created=not history)  # a rule may cover it: hide it
        version.article = row
        version.save()
        if history:
            self.stats.updated += 1
        else:
            self.stats.created += 1
        signals.announce(row, created=not history)

    def describe(
        self, row: Article, capture: Capture, config: OutletConfig | None, hint: str | None
    ) -> None:
        """What the article is, as opposed to what it says: URL, outlet, category."""
        category = (config.category_for(capture.url) if config else None) or hint
        row.url = canonicalize(capture.url)
        row.outlet = self.outlets.get(config.slug) if config else None
        row.category = category if category in CATEGORY_NAMES else "其他"

    def fill(
        self,
        version: ArticleVersion,
        capture: Capture,
        article: extraction.Article,
        digest: str,
        missing: str = "",
    ) -> None:
        version.title = article.title
        version.published_at = article.publish_time
        version.source = article.source or ""
        version.author = article.author or ""
        version.editor = article.editor or ""
        version.repost_from = article.repost_from or ""
        version.summary = article.summary
        version.body_text = article.body_text
        version.body_html = article.body_html
        version.images = [
            {"src": i.src, "caption": i.caption, "alt": i.alt} for i in article.images
        ]
        version.provenance = dict(article.provenance)
        version.content_hash = digest
        version.extractor_version = extraction.EXTRACTOR_VERSION
        version.missing_page = missing
        version.capture = capture


def _trusted(config: OutletConfig | None) -> bool:
    """Whether the outlet's config names its article URLs (see ``extract_article``)."""
    return config is not None and bool(config.article_patterns)


def _waiting() -> QuerySet[ArticleVersion]:
    """Versions waiting for a later page: the condition of their partial index spelled out,
    which SQLite needs to use it."""
    return ArticleVersion.objects.exclude(missing_page="")


def _digest(article: extraction.Article) -> str:
    """What tells two versions apart: the title and the body text."""
    return hashlib.sha1(f"{article.title}\n{article.body_text}".encode()).hexdigest()


def _failed(capture: Capture, config: OutletConfig | None, reason: str) -> None:
    """Count an article page that gave no article, for the status page (ops)."""
    from kuaizhao.ops.models import ExtractionFailure

    ExtractionFailure.objects.get_or_create(
        capture=capture,
        defaults={
            "outlet": config.slug if config else capture.outlet,
            "url": capture.url,
            "captured_at": capture.captured_at,
            "reason": reason[:200],
        },
    )


_IN_CHUNK = 500
"""SURTs per ``IN (…)`` lookup (well under SQLite's limit on query parameters)."""
_UNKNOWN: Any = object()


def _touched(captures: QuerySet[Capture]) -> QuerySet[Capture]:
    """The captures that count as the article seen: successful ones, full or revisit (a 304
    revisit included)."""
    return captures.filter(Q(status=200) | Q(status=304, record_type="revisit"))


def _touch(row: Article, earliest: datetime | None = None, newest: Any = _UNKNOWN) -> bool:
    """Set the article's first and last capture times from the catalogue; True if changed.

    The last capture is the newest successful capture of its URL (full or revisit, a 304
    revisit included) that the catalogue knows, whatever order the WARC files came in;
    ``newest``: that capture's time when the caller looked it up already (None: none).
    """
    if newest is _UNKNOWN:
        newest = (
            _touched(Capture.objects.filter(surt=row.surt))
            .order_by("-captured_at")
            .values_list("captured_at", flat=True)
            .first()
        )
    first = earliest or row.first_captured_at
    last = max(newest, first) if newest else first
    changed = (first, last) != (row.first_captured_at, row.last_captured_at)
    row.first_captured_at, row.last_captured_at = first, last
    return changed


def build_articles(builder: ArticleBuilder, progress: Callable[[int], None] | None = None) -> None:
    """Process every capture not yet processed, oldest first, in batches."""
    while True:
        todo = Capture.objects.filter(processed=False).order_by("captured_at", "id")
        rows = list(todo[: 2 * BATCH])
        batch, ahead = rows[:BATCH], rows[BATCH:]
        if not batch:
            return
        keep: list[tuple[str, int]] = []
        try:
            with transaction.atomic(), searching.held():  # index writes last: see held
                builder.prefetch(batch, ahead)
                for capture in batch:
                    builder.process(capture)
                Capture.objects.filter(id__in=[c.id for c in batch]).update(processed=True)
            keep = [(c.warc_file, c.offset) for c in ahead]
        finally:
            builder.extractions.clear(keep)
        if progress:
            progress(len(batch))


def ingest(
    warc_dir: Path,
    outlets: list[OutletConfig],
    progress: Callable[[int], None] | None = None,
) -> IngestStats:
    """Bring the catalogue up to date with every closed WARC file in ``warc_dir``."""
    stats = IngestStats()
    known = set(WarcFile.objects.values_list("name", flat=True))
    for path in list_warc_files(warc_dir):
        if path.name not in known:
            index_file(path, stats)
    build_articles(ArticleBuilder(warc_dir, outlets, stats), progress)
    # Each ingest adds segments to the SQLite index; one that found nothing new merges them.
    if not stats.files and (seconds := conf.get_int("KUAIZHAO_INDEX_MERGE_SECONDS")) > 0:
        searching.backend().merge(seconds)
    return stats


def rebuild(
    warc_dir: Path,
    outlets: list[OutletConfig],
    progress: Callable[[int], None] | None = None,
) -> IngestStats:
    """Rebuild the catalogue from the WARC files in ``warc_dir`` alone (``kuaizhao reindex``),
    then merge the search index, all of it new, into one segment."""
    reset()
    stats = ingest(warc_dir, outlets, progress)
    with transaction.atomic():
        searching.backend().optimize()
    return stats


def reset() -> None:
    """Forget every derived row, so that ``ingest`` rebuilds the catalogue from the WARCs."""
    with transaction.atomic():
        searching.clear()
        ArticleVersion.objects.all().delete()
        Article.objects.all().delete()
        Capture.objects.all().delete()
        WarcFile.objects.all().delete()
