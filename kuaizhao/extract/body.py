"""Find the article body: the node where punctuated prose concentrates, with few links."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from kuaizhao.extract.html import HtmlElement, Stats, token_set

PARAGRAPH_TAGS = frozenset({"p", "pre", "td", "blockquote", "li", "dd", "font", "span"})
CONTAINER_TAGS = frozenset(
    {"div", "section", "article", "td", "main", "body", "blockquote", "center", "font", "span"}
)
POSITIVE = frozenset(
    {
        "article",
        "content",
        "contents",
        "body",
        "text",
        "main",
        "detail",
        "details",
        "entry",
        "post",
        "story",
        "zhengwen",
        "neirong",
        "wenzhang",
        "artibody",
        "cont",
        "con",
        "txt",
        "news",
        "rich",
    }
)
NEGATIVE = frozenset(
    {
        "comment",
        "comments",
        "footer",
        "foot",
        "sidebar",
        "side",
        "nav",
        "menu",
        "related",
        "relate",
        "recommend",
        "tuijian",
        "xiangguan",
        "hot",
        "rank",
        "list",
        "share",
        "ad",
        "ads",
        "banner",
        "header",
        "head",
        "copyright",
        "links",
        "link",
        "right",
        "left",
        "top",
        "bottom",
        "widget",
        "login",
        "search",
        "more",
    }
)
_SENTENCE_END = re.compile(r"[。！？!?…”」）)]$")


@dataclass
class BodyChoice:
    node: HtmlElement
    extra: list[HtmlElement]  # sibling nodes that continue the article
    score: float


def _class_weight(el: HtmlElement) -> float:
    tokens = token_set(el)
    if not tokens:
        return 0.0
    weight = 0.0
    if tokens & POSITIVE:
        weight += 25.0
    if tokens & NEGATIVE:
        weight -= 25.0
    return weight


def _paragraph_score(stats: Stats, i: int) -> float:
    plain = stats.own[i] if stats.order[i].tag not in PARAGRAPH_TAGS else stats.text[i]
    plain -= min(plain, stats.link[i])
    if plain < 8:
        return 0.0
    return 1.0 + stats.punct[i] * 1.0 + min(plain / 40.0, 4.0)


def choose_body(root: HtmlElement, stats: Stats) -> BodyChoice | None:
    """Score every container by the prose below it and pick the best one."""
    scores: dict[int, float] = {}
    for i, el in enumerate(stats.order):
        tag = el.tag
        is_para = tag in PARAGRAPH_TAGS and tag != "td"
        direct = tag in CONTAINER_TAGS and stats.own[i] >= 20
        if tag == "td" and stats.own[i] >= 20:
            direct = True
        if not (is_para or direct):
            continue
        if is_para and _has_block_child(el):
            if stats.own[i] < 20:
                continue
            direct = True
        value = _paragraph_score(stats, i)
        if value <= 0:
            continue
        # direct text belongs to the node itself; a paragraph's to its container
        node: HtmlElement | None = el if direct else el.getparent()
        for level in range(3):
            if node is None:
                break
            j = stats.index.get(node)
            if j is None:
                break
            if node.tag in CONTAINER_TAGS or node.tag in ("p", "td", "li", "ul", "ol", "table"):
                scores[j] = scores.get(j, 0.0) + value / (1.0 if level == 0 else level * 2.0)
            node = node.getparent()
    if not scores:
        return None
    best_i, best = -1, -math.inf
    final: dict[int, float] = {}
    for j, raw in scores.items():
        el = stats.order[j]
        if el.tag in ("ul", "ol", "li"):
            raw *= 0.5
        value = (raw + _class_weight(el) * min(1.0, raw / 20.0)) * (1.0 - stats.link_density(j))
        final[j] = value
        if value > best:
            best_i, best = j, value
    node = stats.order[best_i]
    node = _maybe_parent(node, stats, final, best)
    extra = _siblings(node, stats, final, best)
    return BodyChoice(node, extra, best)


def _has_block_child(el: HtmlElement) -> bool:
    return any(
        c.tag in ("p", "div", "table", "ul", "ol", "section", "article", "h2", "h3") for c in el
    )


def _maybe_parent(
    node: HtmlElement, stats: Stats, final: dict[int, float], best: float
) -> HtmlElement:
    """Prefer the parent when the best node is one of several prose siblings of one article."""
    parent = node.getparent()
    if parent is None or parent.tag in ("body", "html"):
        return node
    pi = stats.index.get(parent)
    if pi is None:
        return node
    ni = stats.index[node]
    siblings_text = stats.text[pi] - stats.text[ni]
    if siblings_text <= 0:
        return node
    strong = [
        c
        for c in parent
        if c is not node
        and stats.index.get(c) is not None
        and final.get(stats.index[c], 0.0) >= best * 0.3
    ]
    if len(strong) >= 1 and stats.link_density(pi) < 0.25:
        return parent
    return node


def _siblings(
    node: HtmlElement, stats: Stats, final: dict[int, float], best: float
) -> list[HtmlElement]:
    parent = node.getparent()
    if parent is None:
        return []
    extra: list[HtmlElement] = []
    threshold = max(10.0, best * 0.2)
    for child in parent:
        if child is node or not isinstance(child.tag, str):
            continue
        ci = stats.index.get(child)
        if ci is None:
            continue
        if final.get(ci, 0.0) >= threshold and stats.link_density(ci) < 0.3:
            extra.append(child)
    return extra


def is_prose(text: str) -> bool:
    return bool(_SENTENCE_END.search(text))
