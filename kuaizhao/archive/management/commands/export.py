"""``kuaizhao manage export --warc DIR | --jsonl FILE [--since WHEN]``.

``--warc`` copies the archive's WARC files (with ``--since``, only the records captured
since then, byte for byte); ``--jsonl`` writes every article version captured since then,
one JSON object per line (``-`` for standard output), with where its capture is in the
WARC files so that anyone can check it against them.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kuaizhao import conf
from kuaizhao.archive.mementos import BadTimestamp, timestamp_range
from kuaizhao.archive.models import ArticleVersion
from kuaizhao.lib.surt import BadUrl, surt
from kuaizhao.takedown import visibility
from kuaizhao.takedown.matching import RuleSet
from kuaizhao.warc.export import export_warcs
from kuaizhao.warc.reader import list_warc_files


def parse_since(text: str) -> datetime:
    """A moment given as a 4- to 14-digit UTC timestamp or an ISO date or datetime (UTC
    unless it says otherwise)."""
    text = text.strip()
    if text.isdigit():
        try:
            return timestamp_range(text)[0]
        except BadTimestamp as exc:
            raise ValueError(str(exc)) from None
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _visible(rules: RuleSet, uri: str) -> bool:
    try:
        return rules.hides(surt(uri)) is None
    except BadUrl:
        return True


def version_record(version: ArticleVersion, number: int) -> dict[str, Any]:
    article, capture = version.article, version.capture
    return {
        "url": article.url,
        "surt": article.surt,
        "version": number,
        "captured_at": version.captured_at.isoformat(),
        "title": version.title,
        "published_at": version.published_at.isoformat() if version.published_at else None,
        "category": article.category,
        "outlet": article.outlet.slug if article.outlet else None,
        "source": version.source,
        "author": version.author,
        "editor": version.editor,
        "repost_from": version.repost_from,
        "summary": version.summary,
        "body_text": version.body_text,
        "images": version.images,
        "content_hash": version.content_hash,
        "extractor_version": version.extractor_version,
        "capture": {
            "url": capture.url,
            "warc_file": capture.warc_file,
            "offset": capture.offset,
            "length": capture.length,
            "payload_digest": capture.payload_digest,
        },
    }


def export_jsonl(out: TextIO, since: datetime | None) -> int:
    versions = (
        ArticleVersion.objects.select_related("article__outlet", "capture")
        .exclude(article_id__in=visibility.hidden_ids())
        .order_by("article_id", "captured_at", "id")
    )
    count, current, number = 0, None, 0
    for version in versions.iterator():
        if version.article_id != current:
            current, number = version.article_id, 0
        number += 1
        if since is not None and version.captured_at < since:
            continue
        out.write(json.dumps(version_record(version, number), ensure_ascii=False) + "\n")
        count += 1
    return count


class Command(BaseCommand):
    help = "Export the archive: WARC files (--warc DIR) or article versions as JSON lines."

    def add_arguments(self, parser: CommandParser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--warc", type=Path, metavar="DIR", help="copy WARC files here")
        target.add_argument(
            "--jsonl", metavar="FILE", help="write article versions here (- for stdout)"
        )
        parser.add_argument(
            "--since",
            metavar="WHEN",
            help="only captures at or after WHEN (2024-03-01, 2024-03-01T08:00+08:00, 20240301)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        since = None
        if options["since"]:
            try:
                since = parse_since(options["since"])
            except ValueError as exc:
                raise CommandError(f"--since: {exc}") from None
        if options["warc"]:
            destination: Path = options["warc"]
            if destination.resolve() == conf.warc_dir().resolve():
                raise CommandError("--warc must not be the archive's own WARC directory")
            rules = visibility.load()
            stats = export_warcs(
                list_warc_files(conf.warc_dir()),
                destination,
                since=since,
                drop=(lambda uri: not _visible(rules, uri)) if rules else None,
            )
            self.stdout.write(
                f"exported {stats.records} records in {stats.files} WARC files "
                f"({stats.bytes} bytes) to {destination}"
            )
            return
        target = options["jsonl"]
        if target == "-":
            count = export_jsonl(sys.stdout, since)
        else:
            path = Path(target)
            temp = path.with_name(path.name + ".part")
            with temp.open("w", encoding="utf-8") as out:
                count = export_jsonl(out, since)
            temp.replace(path)
        self.stderr.write(f"exported {count} article versions")
