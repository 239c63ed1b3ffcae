"""Extraction quality and speed: kuaizhao and the published extractors, side by side.

Usage: .venv/bin/python benchmarks/extract.py [--only NAME,...] [--repeat N] [--show ID] [--verbose]

The peers (trafilatura, GNE, newspaper4k, goose3, readability-lxml) come from the ``bench`` extra:
``.venv/bin/pip install -e '.[bench]'``; a peer that is not installed is left out of the table.

Scoring follows ``../shared/datasets/zh-news-extract/README.md``: title (NFKC, no whitespace),
time (at the label's precision, local time), source (NFKC, no whitespace; a null label is right
only for an empty output), body F1 over character-bigram multisets and the share of pages with
body F1 >= 0.95. The author slot is shown twice: ``byline`` counts only the author field against
the label's author (or an accepted author alternative); ``auth|ed`` is the README's metric, where
the value in the author slot (the author, else the editor) may equal the author or the editor.
Peers have a single author field, scored the same way in both columns; none of them outputs a
来源 field, so their source column is the share of pages that have none. Time per page is the
median over pages of the best of ``--repeat`` runs, in one process pinned to one core, pages in
memory. Pages are given as bytes to the tools that decode them (kuaizhao, trafilatura,
readability-lxml) and as text decoded by kuaizhao's decoder to those that take only text.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
import unicodedata
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from kuaizhao.lib.dates import SHANGHAI, parse_datetime  # noqa: E402
from kuaizhao.lib.zh import decode_html  # noqa: E402

DATASET = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "zh-news-extract"
RESULTS = HERE / "results" / "extract.json"
COLUMNS = ("title", "time", "source", "byline", "author", "body_f1", "body_95")
NOW = datetime(2026, 1, 1, tzinfo=SHANGHAI)


@dataclass
class Output:
    """What one system says about one page, in the benchmark's terms."""

    title: str | None = None
    time: datetime | None = None
    source: str | None = None
    author: str | None = None
    editor: str | None = None
    body: str = ""


@dataclass
class Page:
    label: dict[str, Any]
    raw: bytes
    text: str


Runner = Callable[[Page], Output]


# -- scoring (the dataset README's definitions) --------------------------------------------------


def norm(text: str | None) -> str:
    if not text:
        return ""
    return "".join(unicodedata.normalize("NFKC", text).split())


def body_f1(output: str, label: str) -> float:
    a, b = _bigrams(norm(output)), _bigrams(norm(label))
    if not a and not b:
        return 1.0
    common = sum((a & b).values())
    if common == 0:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def _bigrams(text: str) -> Counter[str]:
    return Counter(text[i : i + 2] for i in range(len(text) - 1))


def time_ok(got: datetime | None, label: dict[str, Any]) -> bool:
    want = label.get("publish_time")
    if not want:
        return got is None
    if got is None:
        return False
    offset = got.utcoffset()
    if offset is not None and offset.total_seconds() != 8 * 3600:
        got = got.astimezone(SHANGHAI)
    local = got.replace(tzinfo=None).isoformat()
    width = {"day": 10, "minute": 16, "second": 19}[label.get("publish_time_precision") or "second"]
    alternatives = [want, *_alternatives(label, "publish_time")]
    return any(local[:width] == alt[:width] for alt in alternatives)


def _alternatives(label: dict[str, Any], name: str) -> list[str]:
    values = (label.get("acceptable_alternatives") or {}).get(name) or []
    return [v for v in values if v]


def matches(value: str | None, wanted: list[str | None], empty_ok: bool = False) -> bool:
    keys = {norm(w) for w in wanted if w}
    if not norm(value):
        return not keys or empty_ok
    return norm(value) in keys


def score(out: Output, label: dict[str, Any]) -> dict[str, Any]:
    titles = [label["title"], *_alternatives(label, "title")]
    sources = [label.get("source"), *_alternatives(label, "source")]
    authors = [label.get("author"), *_alternatives(label, "author")]
    editors = [label.get("editor"), *_alternatives(label, "editor")]
    f1 = body_f1(out.body, label.get("body") or "")
    return {
        "title": matches(out.title, titles) and bool(norm(out.title)),
        "time": time_ok(out.time, label),
        "source": matches(out.source, sources),
        # byline only: the author field against the label's author; a page whose label has
        # no author is right when the output is empty
        "byline": matches(out.author, authors, empty_ok=not label.get("author")),
        # the README's author metric: the author slot (author, else editor) may be either
        "author": matches(out.author or out.editor, authors + editors),
        "body_f1": f1,
        "body_95": f1 >= 0.95,
    }


# -- the systems ----------------------------------------------------------------------------------


def as_datetime(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=SHANGHAI)
    if isinstance(value, str) and value.strip():
        return parse_datetime(value, now=NOW)
    return None


def joined(value: object) -> str | None:
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value if v) or None
    return str(value) if value else None


def run_kuaizhao(page: Page) -> Output:
    from kuaizhao.extract import extract

    a = extract(page.raw, page.label.get("url"), captured_at=NOW)
    return Output(a.title, a.publish_time, a.source, a.author, a.editor, a.body_text)


def run_trafilatura(page: Page) -> Output:
    import trafilatura

    params = {"extensive_search": True, "original_date": True, "outputformat": "%Y-%m-%d %H:%M:%S"}
    doc = trafilatura.bare_extraction(
        page.raw,
        url=page.label.get("url"),
        with_metadata=True,
        date_extraction_params=params,
        as_dict=True,
    )
    if not isinstance(doc, dict):
        return Output()
    return Output(
        doc.get("title"), as_datetime(doc.get("date")), None, doc.get("author"), None,
        doc.get("text") or "",
    )  # fmt: skip


_GNE: Any = None


def run_gne(page: Page) -> Output:
    global _GNE
    if _GNE is None:
        from gne import GeneralNewsExtractor

        _GNE = GeneralNewsExtractor()
    doc = _GNE.extract(page.text)
    return Output(
        doc.get("title"), as_datetime(doc.get("publish_time")), None, doc.get("author"), None,
        doc.get("content") or "",
    )  # fmt: skip


def run_newspaper(page: Page) -> Output:
    import newspaper
    import tldextract.tldextract as tld

    if tld.TLD_EXTRACTOR.suffix_list_urls:  # its bundled suffix list: never the network
        tld.TLD_EXTRACTOR = tld.TLDExtract(suffix_list_urls=())

    url = page.label.get("url") or "http://example.invalid/"
    art = newspaper.Article(url, language="zh", fetch_images=False)  # no network
    art.download(input_html=page.text)
    art.parse()
    return Output(art.title, as_datetime(art.publish_date), None, joined(art.authors), None,
                  art.text or "")  # fmt: skip


_GOOSE: Any = None


def run_goose(page: Page) -> Output:
    global _GOOSE
    if _GOOSE is None:
        from goose3 import Goose
        from goose3.text import StopWordsChinese

        _GOOSE = Goose({"stopwords_class": StopWordsChinese})
    art = _GOOSE.extract(raw_html=page.text, url=page.label.get("url"))
    return Output(art.title, as_datetime(art.publish_datetime_utc or art.publish_date), None,
                  joined(art.authors), None, art.cleaned_text or "")  # fmt: skip


_BLOCKS = ("p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "pre", "blockquote", "br")


def html_lines(html: str) -> str:
    """Text of an HTML fragment, one line per block element (the labels' body rule)."""
    import lxml.html

    root = lxml.html.fragment_fromstring(html, create_parent="div")
    for el in root.iter(*_BLOCKS):
        el.tail = "\n" + (el.tail or "")
        el.text = "\n" + (el.text or "")
    return "\n".join(ln.strip() for ln in root.text_content().splitlines() if ln.strip())


def run_readability(page: Page) -> Output:
    from readability import Document

    doc = Document(page.raw)
    body = html_lines(doc.summary(html_partial=True))
    author = doc.author()
    return Output(doc.short_title(), None, None, author if author != "[no-author]" else None,
                  None, body)  # fmt: skip


SYSTEMS: dict[str, tuple[str, str | None, Runner]] = {
    "kuaizhao": ("kuaizhao", None, run_kuaizhao),
    "trafilatura": ("trafilatura", "trafilatura", run_trafilatura),
    "gne": ("GNE", "gne", run_gne),
    "newspaper4k": ("newspaper4k (zh)", "newspaper4k", run_newspaper),
    "goose3": ("goose3 (Chinese stop words)", "goose3", run_goose),
    "readability": ("readability-lxml", "readability-lxml", run_readability),
}


# -- running --------------------------------------------------------------------------------------


def load(dataset: Path) -> list[Page]:
    pages = []
    for line in (dataset / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        label = json.loads(line)
        raw = (dataset / "pages" / f"{label['id']}.html").read_bytes()
        pages.append(Page(label, raw, decode_html(raw)[0]))
    return pages


def _version(dist: str | None) -> str:
    if dist is None:
        from kuaizhao.extract import EXTRACTOR_VERSION

        return f"extractor {EXTRACTOR_VERSION}"
    from importlib.metadata import version

    return version(dist)


def measure(runner: Runner, pages: list[Page], repeat: int) -> tuple[list[Output], list[float]]:
    outputs: list[Output] = []
    times: list[float] = []
    runner(pages[0])  # warm-up: imports, models, caches
    for page in pages:
        best, out = float("inf"), Output()
        for _ in range(repeat):
            started = time.perf_counter()
            try:
                out = runner(page)
            except Exception:  # a peer that fails on a page scores nothing on it
                out = Output()
            best = min(best, time.perf_counter() - started)
        outputs.append(out)
        times.append(best * 1000)
    return outputs, times


def evaluate(key: str, pages: list[Page], repeat: int, show: set[str]) -> dict[str, Any]:
    name, dist, runner = SYSTEMS[key]
    outputs, times = measure(runner, pages, repeat)
    per_page: dict[str, dict[str, Any]] = {}
    for page, out in zip(pages, outputs, strict=True):
        if not page.label["is_article"]:
            continue
        result = score(out, page.label)
        per_page[page.label["id"]] = result
        if page.label["id"] in show or "*" in show:
            explain(name, page.label, out, result)
    n = len(per_page)
    summary = {c: round(sum(float(r[c]) for r in per_page.values()) / n, 3) for c in COLUMNS}
    summary["ms_per_page"] = round(statistics.median(times), 1)
    return {
        "system": name,
        "version": _version(dist),
        "summary": summary,
        "pages": per_page,  # scores only: the dataset's text stays out of the project
    }


def explain(name: str, label: dict[str, Any], out: Output, result: dict[str, Any]) -> None:
    bad = [c for c in COLUMNS if result[c] is False]
    print(f"== {name} {label['id']}: f1={result['body_f1']:.3f} wrong: {' '.join(bad) or '-'}")
    wanted = {
        "title": (out.title, label["title"]),
        "time": (out.time, label.get("publish_time")),
        "source": (out.source, label.get("source")),
        "byline": (out.author, label.get("author")),
        "author": (out.author or out.editor, f"{label.get('author')} / {label.get('editor')}"),
    }
    for column in bad:
        if column in wanted:
            got, want = wanted[column]
            print(f"   {column}: got {got!r} want {want!r}")
    if result["body_f1"] < 0.95:
        print("   GOT :", out.body[:300].replace("\n", " / "))
        print("   WANT:", (label.get("body") or "")[:300].replace("\n", " / "))


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| system | title | time | source | author (byline) | author or editor | body_f1 "
        "| body_95 | ms/page |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        s = r["summary"]
        cells = [f"{s[c]:.3f}" for c in COLUMNS]
        lines.append(f"| {r['system']} {r['version']} | {' | '.join(cells)} | {s['ms_per_page']} |")
    return "\n".join(lines)


def _one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cores[-1]})


def _installed(key: str) -> bool:
    dist = SYSTEMS[key][1]
    if dist is None:
        return True
    from importlib.metadata import PackageNotFoundError, version

    try:
        version(dist)
    except PackageNotFoundError:
        print(f"({key} is not installed: pip install -e '.[bench]')", file=sys.stderr)
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("--only", help="comma-separated systems: " + ",".join(SYSTEMS))
    parser.add_argument("--repeat", type=int, default=3, help="runs per page; the best counts")
    parser.add_argument("--show", action="append", default=[], help="explain a page id")
    parser.add_argument("--verbose", action="store_true", help="explain every page")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    if not (args.dataset / "labels.jsonl").is_file():
        raise SystemExit(f"benchmarks/extract.py: no dataset at {args.dataset}")
    _one_core()
    pages = load(args.dataset.resolve())
    keys = args.only.split(",") if args.only else list(SYSTEMS)
    show = set(args.show) | ({"*"} if args.verbose else set())
    results = [evaluate(k, pages, args.repeat, show) for k in keys if _installed(k)]
    articles = sum(1 for p in pages if p.label["is_article"])
    print(f"{articles} article pages of {args.dataset.name}; median ms/page on one core")
    print(table(results))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"dataset": args.dataset.name, "article_pages": articles, "systems": results},
            ensure_ascii=False,
            indent=1,
            sort_keys=True,
        )
        + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
