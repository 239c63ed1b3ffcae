"""Key phrases of an article: what "related coverage" searches the archive for.

Words are weighted by TF-IDF (jieba's bundled document frequencies until the archive has
its own); runs of adjacent key words that recur in the text are joined into one phrase, so
an article about 山西中部城市群 searches for that name, not for 山西 alone.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from pathlib import Path

import jieba
import rjieba

_CJK = re.compile(r"[\u4e00-\u9fff]")
_STOP = frozenset(
    [
        "我们",
        "他们",
        "你们",
        "这个",
        "那个",
        "一个",
        "没有",
        "什么",
        "可以",
        "已经",
        "进行",
        "通过",
        "以及",
        "其中",
        "同时",
        "目前",
        "今年",
        "记者",
        "表示",
        "介绍",
        "相关",
        "工作",
        "发展",
        "推进",
        "推动",
        "开展",
        "加强",
        "实现",
        "提升",
        "建设",
        "全面",
        "积极",
        "不断",
        "日前",
        "近日",
        "日电",
        "报道",
        "来源",
        "编辑",
        "责任编辑",
        "本报讯",
        "新闻",
        "网讯",
    ]
)
TOP_WORDS = 12
MAX_RUN_CHARS = 12
MAX_GROWTH = 2
NAME_CHARS = 8
"""Names of places, programmes and topics rarely run longer; longer runs are events."""


@functools.cache
def _idf() -> tuple[dict[str, float], float]:
    # Read the file directly: importing jieba.analyse would load (and leak) it a second time.
    text = (Path(jieba.__file__).parent / "analyse" / "idf.txt").read_text(encoding="utf-8")
    table: dict[str, float] = {}
    for line in text.splitlines():
        word, _, value = line.partition(" ")
        if value:
            table[word] = float(value)
    values = sorted(table.values())
    return table, values[len(values) // 2]


def _is_word(token: str) -> bool:
    return len(token) >= 2 and token not in _STOP and bool(_CJK.search(token))


def keyword_weights(tokens: list[str]) -> dict[str, float]:
    """TF-IDF weight of each content word of a text cut into ``tokens``."""
    idf, median = _idf()
    counts = Counter(t for t in tokens if _is_word(t))
    return {w: n * idf.get(w, median) for w, n in counts.items()}


def _runs(tokens: list[str], keep: set[str]) -> list[str]:
    """Maximal runs of adjacent tokens that are all key words, joined."""
    runs, current = [], ""
    for token in [*tokens, ""]:
        if token in keep and len(current) + len(token) <= MAX_RUN_CHARS:
            current += token
            continue
        if current:
            runs.append(current)
        current = token if token in keep else ""
    return runs


def _starts(phrase: str, text: str) -> list[int]:
    """Where ``phrase`` begins in ``text``, occurrences not overlapping (as ``re.finditer``)."""
    starts, at = [], text.find(phrase)
    while at >= 0:
        starts.append(at)
        at = text.find(phrase, at + len(phrase))
    return starts


def _close(phrase: str, text: str) -> str:
    """Grow ``phrase`` by the characters that always surround it (专项 + 债 -> 专项债).

    A segmenter splits off single characters that belong to the name; where every one of
    at least two occurrences continues with the same Chinese character, it is part of it.
    """
    grown = 0
    while grown < MAX_GROWTH:
        grown += 1
        starts = _starts(phrase, text)
        if len(starts) < 2:
            return phrase
        after = {text[i + len(phrase) : i + len(phrase) + 1] for i in starts}
        before = {text[i - 1 : i] if i > 0 else "" for i in starts}
        if len(after) == 1 and _CJK.fullmatch(next(iter(after))):
            phrase += after.pop()
        elif len(before) == 1 and _CJK.fullmatch(next(iter(before))):
            phrase = before.pop() + phrase
        else:
            return phrase
    return phrase


def key_phrases(title: str, body: str, limit: int = 3) -> list[str]:
    """Up to ``limit`` phrases that name what the article is about, best first."""
    text = f"{title}\n{body}"
    # jieba segments each run of ideographs and letters on its own: the line break between
    # title and body makes the text's words the title's and the body's.
    title_words, body_words = list(rjieba.cut(title)), list(rjieba.cut(body))
    weights = keyword_weights(title_words + body_words)
    if not weights:
        return []
    keep = set(sorted(weights, key=weights.__getitem__, reverse=True)[:TOP_WORDS])
    scores: dict[str, float] = {}
    runs = _runs(title_words, keep) + _runs(body_words, keep)
    for run in {_close(r, text) for r in set(runs)}:
        occurrences = text.count(run)
        parts = [w for w in rjieba.cut(run) if w in weights]
        score = sum(weights[w] for w in parts) * math.log1p(occurrences)
        if run in title:
            score *= 1.5
        if occurrences < 2:  # a headline fragment, not a name the article keeps returning to
            score *= 0.3
        score *= min(1.0, NAME_CHARS / len(run))
        scores[run] = max(scores.get(run, 0.0), score)
    chosen: list[str] = []
    for phrase in sorted(scores, key=lambda p: (-scores[p], p)):
        if not any(phrase in c or c in phrase for c in chosen):
            chosen.append(phrase)
        if len(chosen) == limit:
            break
    return chosen
