"""``kuaizhao extract FILE... [--url URL] --json``: run the extractor on saved pages.

One JSON object per input file, one per line, in the order given. A file that cannot be read,
or that is not an article page, gives an object with an ``error`` key; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from kuaizhao.extract import Article, extract

MAX_BYTES = 64 * 1024 * 1024


def build_parser(prog: str = "kuaizhao extract") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Extract the article of each saved page (no network)."
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="saved HTML pages")
    parser.add_argument("--url", help="the pages' original URL (resolves links, dates in URLs)")
    parser.add_argument("--json", action="store_true", help="one JSON object per file per line")
    return parser


def as_json(article: Article) -> dict[str, Any]:
    """The command's JSON shape of one article."""
    published = article.publish_time.isoformat() if article.publish_time else None
    return {
        "title": article.title,
        "publish_time": published,
        "source": article.source,
        "author": article.author,
        "editor": article.editor,
        "repost_from": article.repost_from,
        "body": article.body_text,
        "images": [{"src": i.src, "caption": i.caption, "alt": i.alt} for i in article.images],
        "category": article.category_hint,
        "summary": article.summary,
        "provenance": dict(article.provenance),
    }


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise OSError(f"larger than {MAX_BYTES // (1024 * 1024)} MiB")
    return data


def extract_file(path: str, url: str | None) -> dict[str, Any]:
    """The JSON object for one file: the article, or ``{"file", "error"}``."""
    try:
        body = _read(path)
    except OSError as exc:
        return {"file": path, "error": f"cannot read: {exc.strerror or exc}"}
    try:
        article = extract(body, url)
    except Exception as exc:  # a bug must not stop the other files
        return {"file": path, "error": f"extraction failed: {type(exc).__name__}: {exc}"}
    if not article.is_article:
        reason = "; ".join(article.warnings) or "not an article page"
        return {"file": path, "error": reason, "title": article.title}
    return {"file": path, **as_json(article)}


def _plain(result: dict[str, Any], out: TextIO) -> None:
    out.write(f"== {result['file']}\n")
    if "error" in result:
        out.write(f"error: {result['error']}\n")
        return
    for key in ("title", "publish_time", "source", "author", "editor", "repost_from"):
        if result.get(key):
            out.write(f"{key}: {result[key]}\n")
    out.write(f"\n{result['body']}\n")


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    args = build_parser().parse_args(argv)
    stream = out if out is not None else sys.stdout
    failed = False
    for name in args.files:
        result = extract_file(str(Path(name)), args.url)
        failed = failed or "error" in result
        if args.json:
            stream.write(json.dumps(result, ensure_ascii=False) + "\n")
        else:
            _plain(result, stream)
        stream.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
