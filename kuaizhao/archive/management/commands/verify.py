"""``kuaizhao manage verify``: re-read every WARC record, check its digests, and check that
the catalogue points at the records it says it does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kuaizhao import conf
from kuaizhao.archive.models import Capture
from kuaizhao.warc.reader import list_warc_files
from kuaizhao.warc.verify import verify_file


class Command(BaseCommand):
    help = "Re-read every WARC record and check its digests against the record and the catalogue."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dir", type=Path, help="the WARC directory (default: $KUAIZHAO_HOME/warc)"
        )
        parser.add_argument(
            "--no-catalogue", action="store_true", help="check the files only, not the catalogue"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory: Path = options["dir"] or conf.warc_dir()
        problems: list[str] = []
        records = 0
        files = list_warc_files(directory)
        positions: dict[tuple[str, int], tuple[str, str | None]] = {}
        for path in files:
            report = verify_file(path)
            records += len(report.records)
            problems.extend(report.problems)
            for check in report.records:
                positions[path.name, check.offset] = (check.record_type, check.payload_digest)
            state = "ok" if report.ok else f"{len(report.problems)} problem(s)"
            self.stdout.write(f"{path.name}: {len(report.records)} records, {state}")
        checked = 0
        if not options["no_catalogue"]:
            names = {p.name for p in files}
            rows = Capture.objects.values_list(
                "warc_file", "offset", "record_type", "payload_digest"
            )
            for warc_file, offset, record_type, digest in rows.iterator():
                checked += 1
                found = positions.get((warc_file, offset))
                where = f"{warc_file} @ {offset}"
                if warc_file not in names:
                    problems.append(f"{where}: the catalogue names a WARC file that is missing")
                elif found is None:
                    problems.append(f"{where}: the catalogue points at no record")
                elif found != (record_type, digest or None):
                    problems.append(
                        f"{where}: the catalogue's type or digest differs from the record"
                    )
        for problem in problems:
            self.stderr.write(problem)
        summary = f"{len(files)} files, {records} records, {checked} catalogue rows checked"
        if problems:
            raise CommandError(f"{summary}: {len(problems)} problem(s)")
        self.stdout.write(f"{summary}: every digest matches")
