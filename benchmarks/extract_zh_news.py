"""Score the extractor on the zh-news-extract dataset (labelled real Chinese news pages).

Usage: .venv/bin/python benchmarks/extract_zh_news.py [--dataset PATH] [--show ID] [--verbose]

Scoring follows the dataset README: title (NFKC, no whitespace), time (at the label's precision,
local time), source / author (NFKC, no whitespace; null label = output must be empty; author may
also equal the editor or an accepted alternative), body F1 over character-bigram multisets, the
share of pages with body F1 >= 0.95, and wall milliseconds per page.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from kuaizhao.extract import Article, extract  # noqa: E402

DEFAULT_DATASET = HERE.parent.parent / "shared" / "datasets" / "zh-news-extract"
RESULTS = HERE / "results" / "extract_zh_news.json"
METRICS = ("title", "time", "source", "author", "body_f1", "body_95", "author_strict", "editor")


def norm(text: str | None) -> str:
    if not text:
        return ""
    return "".join(unicodedata.normalize("NFKC", text).split())


def bigrams(text: str) -> Counter[str]:
    return Counter(text[i : i + 2] for i in range(len(text) - 1))


def body_f1(output: str, label: str) -> float:
    a, b = bigrams(norm(output)), bigrams(norm(label))
    if not a and not b:
        return 1.0
    common = sum((a & b).values())
    if common == 0:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def time_ok(article: Article, label: dict[str, Any]) -> bool:
    want = label.get("publish_time")
    got = article.publish_time
    if not want:
        return got is None
    if got is None:
        return False
    if got.utcoffset() is not None and got.utcoffset().total_seconds() == 8 * 3600:
        local = got.replace(tzinfo=None)
    else:
        from kuaizhao.lib.dates import SHANGHAI

        local = got.astimezone(SHANGHAI).replace(tzinfo=None)
    precision = label.get("publish_time_precision") or "second"
    width = {"day": 10, "minute": 16, "second": 19}[precision]
    alternatives = [want, *label.get("acceptable_alternatives", {}).get("publish_time", [])]
    return any(local.isoformat()[:width] == alt[:width] for alt in alternatives)


def field_ok(
    value: str | None, label: dict[str, Any], name: str, extra: tuple[str, ...] = ()
) -> bool:
    wanted = [label.get(name), *[label.get(e) for e in extra]]
    wanted += label.get("acceptable_alternatives", {}).get(name, [])
    wanted = [w for w in wanted if w]
    if not wanted:
        return not norm(value)
    return bool(norm(value)) and norm(value) in {norm(w) for w in wanted}


def score_page(article: Article, label: dict[str, Any]) -> dict[str, Any]:
    titles = [label["title"], *label.get("acceptable_alternatives", {}).get("title", [])]
    f1 = body_f1(article.body_text, label.get("body") or "")
    return {
        "title": norm(article.title) in {norm(t) for t in titles},
        "time": time_ok(article, label),
        "source": field_ok(article.source, label, "source"),
        # the author slot: the byline author, else the editor (the README accepts either)
        "author": field_ok(article.author or article.editor, label, "author", ("editor",)),
        "author_strict": field_ok(article.author, label, "author"),
        "editor": field_ok(article.editor, label, "editor"),
        "body_f1": f1,
        "body_95": f1 >= 0.95,
    }


def run(dataset: Path, verbose: bool, show: str | None) -> dict[str, Any]:
    labels = [json.loads(line) for line in (dataset / "labels.jsonl").read_text().splitlines()]
    pages = {lab["id"]: (dataset / "pages" / f"{lab['id']}.html").read_bytes() for lab in labels}
    per_page: dict[str, dict[str, Any]] = {}
    total_time = 0.0
    list_pages: dict[str, bool] = {}
    for label in labels:
        body = pages[label["id"]]
        started = time.perf_counter()
        article = extract(body, label.get("url"))
        total_time += time.perf_counter() - started
        if not label["is_article"]:
            list_pages[label["id"]] = not article.is_article
            continue
        result = score_page(article, label)
        per_page[label["id"]] = result
        if verbose or show == label["id"]:
            _explain(label, article, result)
    n = len(per_page)
    summary = {m: round(sum(float(r[m]) for r in per_page.values()) / n, 3) for m in METRICS}
    summary["ms_per_page"] = round(total_time * 1000 / len(labels), 2)
    summary["pages"] = n
    summary["list_pages_rejected"] = sum(list_pages.values()) / max(1, len(list_pages))
    return {"summary": summary, "pages": per_page}


def _explain(label: dict[str, Any], article: Article, result: dict[str, Any]) -> None:
    marks = " ".join(f"{m}={'ok' if result[m] is True else result[m]}" for m in METRICS)
    print(f"== {label['id']}: {marks}")
    checks = (
        ("title", article.title, label["title"]),
        ("time", article.publish_time, label.get("publish_time")),
        ("source", article.source, label.get("source")),
        ("author", article.author or article.editor, label.get("author") or label.get("editor")),
        ("author_strict", article.author, label.get("author")),
        ("editor", article.editor, label.get("editor")),
    )
    for name, got, want in checks:
        if result[name] is not True:
            print(f"   {name}: got {got!r} want {want!r}  [{article.provenance.get(name, '')}]")
    if result["body_f1"] < 0.95:
        print(f"   body_f1 {result['body_f1']:.3f}")
        print("   GOT :", article.body_text[:300].replace("\n", " / "))
        print("   WANT:", (label.get("body") or "")[:300].replace("\n", " / "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--show")
    args = parser.parse_args()
    results = run(args.dataset.resolve(), args.verbose, args.show)
    s = results["summary"]
    header = "| system | title | time | source | author | body_f1 | body_95 | ms/page |"
    print(header)
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| kuaizhao | {s['title']:.3f} | {s['time']:.3f} | {s['source']:.3f} | {s['author']:.3f} "
        f"| {s['body_f1']:.3f} | {s['body_95']:.3f} | {s['ms_per_page']} |"
    )
    print(
        f"extra: author only (no editor fallback) {s['author_strict']:.3f}, "
        f"editor {s['editor']:.3f}"
    )
    print(f"list pages rejected: {s['list_pages_rejected']:.0%} ({s['pages']} article pages)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
