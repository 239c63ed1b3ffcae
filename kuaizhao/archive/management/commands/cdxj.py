"""``kuaizhao manage cdxj [--output FILE]``: a sorted CDXJ index of every WARC file, read
from the files alone (pywb reads it as a collection index)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kuaizhao import conf
from kuaizhao.warc.cdxj import write_cdxj
from kuaizhao.warc.reader import list_warc_files


class Command(BaseCommand):
    help = "Write a sorted CDXJ index of every WARC file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", type=Path, help="the index file (default: stdout)")

    def handle(self, *args: Any, **options: Any) -> None:
        paths = list_warc_files(conf.warc_dir())
        output: Path | None = options["output"]
        if output is None:
            write_cdxj(paths, sys.stdout)
            return
        temp = output.with_name(output.name + ".part")
        with temp.open("w", encoding="utf-8") as out:
            count = write_cdxj(paths, out)
        temp.replace(output)
        self.stderr.write(f"{count} captures indexed in {output}")
