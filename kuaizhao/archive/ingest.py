"""WARC files in, catalogue rows out.

Ingest runs in two passes. The first records where every response and revisit record is
(``Capture``), one transaction per WARC file, so a file is either wholly in the catalogue
or not at all. The second extracts the captures that are article pages, follows their
continuation pages through the captures already recorded, and writes ``Article`` rows,
whose inserts and updates keep the full-text index current through its triggers.
Running it twice does nothing the second time; ``reindex`` starts from empty.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from kuaizhao import extract as extraction
from kuaizhao.archive import searching
from kuaizhao.archive.models import Article, Capture, Outlet, WarcFile
from kuaizhao.lib.outlets import CATEGORY_NAMES, outlet_for
from kuaizhao.lib.outlets import Outlet as OutletConfig
from kuaizhao.lib.surt import canonicalize, surt
from kuaizhao.warc.reader import (
    WarcCapture,
    WarcError,
    iter_captures,
    list_warc_files,
    read_capture,
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
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def _mime(headers: Iterable[tuple[str, str]]) -> str:
    for name, value in headers:
        if name.lower() == "content-type":
            return value.split(";", 1)[0].strip().lower()[:100]
    return ""


def _capture_row(cap: WarcCapture) -> Capture:
    return Capture(
        url=cap.url,
        surt=surt(cap.url),
        captured_at=cap.captured_at,
        status=cap.status,
        mime=_mime(cap.headers),
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
    rows = {}
    for config in outlets:
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

    def extract_at(self, capture: Capture) -> extraction.Article:
        record = read_capture(self.warc_dir / capture.warc_file, capture.offset)
        headers = {name.lower(): value for name, value in record.headers}
        return extraction.extract(
            record.payload, capture.url, headers, captured_at=capture.captured_at
        )

    def continuation(self, url: str) -> Capture | None:
        return (
            Capture.objects.filter(surt=surt(url), status=200, record_type="response")
            .order_by("-captured_at")
            .first()
        )

    def extract_article(self, capture: Capture) -> extraction.Article | None:
        first = self.extract_at(capture)
        if not first.is_article or first.page_number > 1:
            return None
        pages, seen = [first], {surt(capture.url)}
        while pages[-1].next_page_url and len(pages) < MAX_PAGES:
            key = surt(pages[-1].next_page_url)
            nxt = None if key in seen else self.continuation(pages[-1].next_page_url)
            if nxt is None:
                break
            seen.add(key)
            pages.append(self.extract_at(nxt))
        return extraction.merge_pages(pages) if len(pages) > 1 else first

    def process(self, capture: Capture) -> None:
        config = self.config_for(capture)
        if capture.record_type == "revisit":
            updated = Article.objects.filter(
                surt=capture.surt, last_captured_at__lt=capture.captured_at
            ).update(last_captured_at=capture.captured_at)
            self.stats.unchanged += updated
            return
        if not self.is_candidate(capture, config):
            return
        try:
            article = self.extract_article(capture)
        except (WarcError, OSError) as exc:
            self.stats.errors.append(f"{capture.url}: cannot read capture: {exc}")
            return
        if article is None or not article.title or not article.body_text:
            self.stats.skipped += 1
            return
        self.store(capture, config, article)

    def store(
        self, capture: Capture, config: OutletConfig | None, article: extraction.Article
    ) -> None:
        digest = hashlib.sha1(f"{article.title}\n{article.body_text}".encode()).hexdigest()
        existing = Article.objects.filter(surt=capture.surt).first()
        if existing is not None and existing.content_hash == digest:
            if capture.captured_at > existing.last_captured_at:
                existing.last_captured_at = capture.captured_at
                existing.save(update_fields=["last_captured_at"])
            self.stats.unchanged += 1
            return
        row = existing or Article(surt=capture.surt, first_captured_at=capture.captured_at)
        self.fill(row, capture, config, article, digest)
        searching.prepare(row)
        row.save()
        if existing is None:
            self.stats.created += 1
        else:
            self.stats.updated += 1

    def fill(
        self,
        row: Article,
        capture: Capture,
        config: OutletConfig | None,
        article: extraction.Article,
        digest: str,
    ) -> None:
        category = (config.category_for(capture.url) if config else None) or article.category_hint
        row.url = canonicalize(capture.url)
        row.outlet = self.outlets.get(config.slug) if config else None
        row.category = category if category in CATEGORY_NAMES else "其他"
        row.title = article.title
        row.published_at = article.publish_time
        row.source = article.source or ""
        row.author = article.author or ""
        row.editor = article.editor or ""
        row.repost_from = article.repost_from or ""
        row.summary = article.summary
        row.body_text = article.body_text
        row.body_html = article.body_html
        row.images = [{"src": i.src, "caption": i.caption, "alt": i.alt} for i in article.images]
        row.provenance = dict(article.provenance)
        row.content_hash = digest
        row.extractor_version = extraction.EXTRACTOR_VERSION
        row.capture = capture
        row.last_captured_at = max(capture.captured_at, row.last_captured_at or capture.captured_at)


def build_articles(builder: ArticleBuilder, progress: Callable[[int], None] | None = None) -> None:
    """Process every capture not yet processed, oldest first, in batches."""
    while True:
        batch = list(Capture.objects.filter(processed=False).order_by("captured_at", "id")[:BATCH])
        if not batch:
            return
        with transaction.atomic():
            for capture in batch:
                builder.process(capture)
            Capture.objects.filter(id__in=[c.id for c in batch]).update(processed=True)
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
    return stats


def reset() -> None:
    """Forget every derived row, so that ``ingest`` rebuilds the catalogue from the WARCs."""
    with transaction.atomic():
        Article.objects.all().delete()
        Capture.objects.all().delete()
        WarcFile.objects.all().delete()
