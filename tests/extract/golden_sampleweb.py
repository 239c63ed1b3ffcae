"""Write one golden page per sample-web outlet template into ``testdata/sampleweb/``.

Run ``.venv/bin/python -m tests.extract.golden_sampleweb`` after a template changes. Each page is
rendered in-process by ``kuaizhao.sampleweb`` (no server) and saved byte for byte in the outlet's
encoding; its ``.expected.json`` is the sample web's own manifest entry (the truth it was rendered
from). A page is written only when the extractor already agrees with the manifest on every field,
so a regression shows up as a failing golden test, never as a silently rewritten expectation.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kuaizhao.extract import Article, extract
from kuaizhao.lib.dates import SHANGHAI

OUT = Path(__file__).parent / "testdata" / "sampleweb"
SEED, ARTICLES = 7, 60


def _key(text: str | None) -> str:
    return re.sub(r"[\s、]", "", unicodedata.normalize("NFKC", text or ""))


def disagreements(item: dict[str, Any], article: Article) -> list[str]:
    """Fields where the extraction differs from the manifest (names compared without separators:
    the manifest lists authors with 、 where a page may print spaces)."""
    found = [
        name
        for name in ("title", "source", "author", "editor", "repost_from")
        if _key(item.get(name)) != _key(getattr(article, name))
    ]
    got = article.publish_time.isoformat() if article.publish_time else None
    if datetime_key(item.get("published_at")) != datetime_key(got):
        found.append("publish_time")
    want = [_key(p) for p in item["body"] if _key(p)]
    if want != [_key(b.text) for b in article.blocks if b.text]:
        found.append("body")
    return found


def datetime_key(value: str | None) -> str | None:
    if not value:
        return None
    return datetime.fromisoformat(value).astimezone(SHANGHAI).isoformat()[:16]


def expected(item: dict[str, Any], article: Article) -> dict[str, Any]:
    return {
        "url": item["url"],
        "captured_at": "2026-01-01T00:00:00+08:00",
        "title": item["title"],
        "publish_time": article.publish_time.isoformat() if article.publish_time else None,
        "source": item.get("source"),
        "author": article.author,  # as the page prints it (the manifest's names, separators kept)
        "editor": article.editor,
        "repost_from": item.get("repost_from"),
        "body": [b.text for b in article.blocks if b.text],
        "images": [{"src": i.src, "caption": i.caption, "alt": i.alt} for i in article.images],
    }


def main() -> None:
    from kuaizhao.sampleweb.app import App
    from kuaizhao.sampleweb.corpus import Corpus

    corpus = Corpus(articles=ARTICLES, seed=SEED)
    app = App(corpus)
    captured = datetime(2026, 1, 1, tzinfo=SHANGHAI)
    done: set[str] = set()
    OUT.mkdir(parents=True, exist_ok=True)
    items = corpus.manifest()["articles"]
    # pages with images first, so that captions are covered where a template has them
    for item in sorted(items, key=lambda i: not i.get("images")):
        outlet = item["outlet"]
        if outlet in done or len(item.get("pages") or []) > 1:
            continue
        response = app.handle("GET", urlsplit(item["url"]).path)
        headers = {"content-type": response.content_type}
        article = extract(response.body, item["url"], headers, captured_at=captured)
        wrong = disagreements(item, article)
        if wrong:
            raise SystemExit(f"{item['url']}: the extractor disagrees on {wrong}")
        data = {**expected(item, article), "content_type": response.content_type}
        (OUT / f"{outlet}.html").write_bytes(response.body)
        (OUT / f"{outlet}.expected.json").write_text(
            json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        done.add(outlet)
    print(f"wrote {len(done)} golden pages to {OUT}: {', '.join(sorted(done))}")


if __name__ == "__main__":
    main()
