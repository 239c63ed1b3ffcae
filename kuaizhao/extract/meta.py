"""Metadata: title, publish time, source, author, editor, repost origin, category."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from kuaizhao.extract.html import HtmlElement, Stats, collapse, inline_text, token_set
from kuaizhao.lib.dates import SHANGHAI, date_from_url, find_datetimes, parse_datetime
from kuaizhao.lib.zh import normalize

_TITLE_SEP = re.compile(r"\s*(?:[_|｜]|--+|\s-\s|\s–\s|-(?=[^-]{2,12}$))\s*")
_CRUMB = re.compile(r"首页|当前位置|您的位置|现在位置|>|›|»")
_TITLE_TOKENS = frozenset({"title", "headline", "biaoti", "tit", "bt", "heading", "hd", "h1"})


# ---------------------------------------------------------------------------------------------
# page-level <head> information


@dataclass
class HeadInfo:
    title: str = ""
    og_title: str = ""
    metas: dict[str, str] = field(default_factory=dict)
    jsonld_dates: list[str] = field(default_factory=list)
    canonical: str | None = None


def read_head(root: HtmlElement) -> HeadInfo:
    info = HeadInfo()
    for el in root.iter("title"):
        info.title = normalize(el.text_content() or "")
        break
    for el in root.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        value = el.get("content")
        if key and value and key not in info.metas:
            info.metas[key] = normalize(value)
    info.og_title = info.metas.get("og:title", "")
    for el in root.iter("link"):
        if (el.get("rel") or "").lower() == "canonical" and el.get("href"):
            info.canonical = el.get("href")
    for el in root.iter("script"):
        if (el.get("type") or "").lower() == "application/ld+json" and el.text:
            info.jsonld_dates.extend(_jsonld_dates(el.text))
    return info


def _jsonld_dates(text: str) -> list[str]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return re.findall(r'"datePublished"\s*:\s*"([^"]+)"', text)
    found: list[str] = []
    stack: list[object] = [data]
    while stack and len(found) < 5:
        item = stack.pop()
        if isinstance(item, dict):
            value = item.get("datePublished")
            if isinstance(value, str):
                found.append(value)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


# ---------------------------------------------------------------------------------------------
# title


def _bigrams(text: str) -> Counter[str]:
    return Counter(text[i : i + 2] for i in range(len(text) - 1))


def similarity(a: str, b: str) -> float:
    a, b = collapse(a), collapse(b)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    ba, bb = _bigrams(a), _bigrams(b)
    total = sum(ba.values()) + sum(bb.values())
    return 2.0 * sum((ba & bb).values()) / total if total else 0.0


def title_parts(title: str) -> list[str]:
    parts = [p.strip() for p in _TITLE_SEP.split(title) if p and p.strip()]
    return parts or ([title] if title else [])


def clean_title(title: str) -> str:
    """<title> without site-name prefixes/suffixes: the longest separator-delimited part."""
    parts = title_parts(title)
    if not parts:
        return ""
    return max(parts, key=len)


@dataclass
class TitleChoice:
    text: str
    element: HtmlElement | None
    where: str


def _title_candidates(root: HtmlElement, stats: Stats) -> Iterable[HtmlElement]:
    for el in stats.order:
        tag = el.tag
        if tag in ("h1", "h2", "h3", "h4", "h5"):
            yield el
        elif tag in ("div", "p", "span", "td", "strong", "font", "b") and (
            token_set(el) & _TITLE_TOKENS or any("title" in t for t in token_set(el))
        ):
            i = stats.index[el]
            if 4 <= stats.text[i] <= 120:
                yield el


def find_title(
    root: HtmlElement, stats: Stats, head: HeadInfo, body_start: int | None
) -> TitleChoice:
    references = [r for r in (head.og_title, head.title, head.metas.get("title", "")) if r]
    best: tuple[float, int, int] | None = None
    best_el: HtmlElement | None = None
    nearest: HtmlElement | None = None
    for el in _title_candidates(root, stats):
        text = inline_text(el)
        if not (2 <= len(text) <= 150) or _CRUMB.search(text):
            continue
        i = stats.index[el]
        if body_start is not None and i < body_start:
            nearest = el if stats.link_density(i) < 0.5 else nearest
        sim = 0.0
        for ref in references:
            sim = max(sim, similarity(text, ref), *(similarity(text, p) for p in title_parts(ref)))
        if body_start is not None and i > body_start:
            sim *= 0.5  # headlines come before the text they head
        rank = {"h1": 4, "h2": 3, "h3": 2}.get(str(el.tag), 1)
        key = (round(sim, 2), rank, -i)
        if sim >= 0.5 and (best is None or key > best):
            best, best_el = key, el
    if best_el is not None:
        return TitleChoice(inline_text(best_el), best_el, str(best_el.tag))
    if nearest is not None and _plausible_heading(nearest, references):
        return TitleChoice(inline_text(nearest), nearest, f"{nearest.tag!s} before body")
    if references:
        return TitleChoice(
            clean_title(references[0]), None, "og:title" if head.og_title else "title"
        )
    return TitleChoice("", None, "none")


def _plausible_heading(el: HtmlElement, references: list[str]) -> bool:
    """The last heading before the body, when <title> names only the site or the column."""
    if not references or el.tag in ("h1", "h2"):
        return True
    text = inline_text(el)
    return el.tag in ("h3", "h4", "h5") and len(text) >= 8 and not _CRUMB.search(text)


# ---------------------------------------------------------------------------------------------
# labelled meta lines

_LABELS: dict[str, tuple[str, ...]] = {
    "source": (
        "信息来源",
        "文章来源",
        "新闻来源",
        "稿件来源",
        "来源于",
        "来源",
        "稿源",
        "出处",
        "来自",
    ),
    "time": (
        "发布时间",
        "发布日期",
        "发表时间",
        "发表日期",
        "发稿时间",
        "更新时间",
        "最后更新",
        "时间",
        "日期",
        "发布于",
    ),
    "editor": ("责任编辑", "值班编辑", "责编", "编辑"),
    "repost": ("本文转自", "原文转自", "转载自", "转自"),
    "author": ("作者", "撰文", "撰稿", "采写", "文/图", "图/文", "记者", "通讯员", "文"),
    "other": (
        "浏览次数",
        "浏览量",
        "浏览",
        "阅读量",
        "阅读",
        "点击数",
        "点击量",
        "点击",
        "字号",
        "字体",
        "评论",
        "分享到",
        "分享",
        "打印",
        "类别",
        "分类",
        "栏目",
        "频道",
        "关键词",
        "关键字",
        "标签",
        "审核",
        "审校",
        "校对",
        "摄影",
        "图片",
        "供稿",
        "访问量",
        "人气",
        "签发",
        "监制",
        "主编",
        "终审",
        "初审",
        "复审",
    ),
}
_LABEL_KIND = {label: kind for kind, labels in _LABELS.items() for label in labels}
_ALL_LABELS = sorted(_LABEL_KIND, key=len, reverse=True)
_LABEL_RE = re.compile(
    r"(?P<label>"
    + "|".join(
        (f"(?<![\u4e00-\u9fff]){re.escape(lab)}" if len(lab) == 1 else re.escape(lab))
        for lab in _ALL_LABELS
    )
    + r")(?:\s*[:：︱]\s*|(?<=[文图辑影者])\s*/\s*|(?<=文/图|图/文)\s+)"
)
_LABEL_MARKS = (":", "：", "︱", "/")
"""One of these is in every match of ``_LABEL_RE``."""
_JUNK_TOKENS = frozenset(
    {
        "整合",
        "整理",
        "综合",
        "编译",
        "[整理]",
        "原创",
        "转载",
        "字号",
        "大",
        "中",
        "小",
        "打印",
        "打印本页",
        "分享",
        "分享到",
        "收藏",
        "举报",
        "评论",
        "关注",
        "纠错",
        "默认",
        "大字",
        "小字",
        "A",
        "A+",
        "A-",
        "|",
        "丨",
        "/",
        "未知",
        "佚名",
        "admin",
        "0",
    }
)
_EDGE = " \t|丨/\\·•:：,，;；-—_【】[]()（）<>《》「」\"'"
_DATE_CHUNK = re.compile(
    r"(?:(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*[日号]?|\d{1,2}\s*[-/月]\s*\d{1,2}\s*[日号]?)"
    r"(?:\s*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?|\d{1,2}[:：]\d{2}(?:[:：]\d{2})?"
)


@dataclass
class Field:
    value: str
    where: str


def has_label(line: str) -> bool:
    # Every label is followed by ``:``, ``：``, ``︱`` or ``/`` (or is 文/图): a line with none
    # of them (most of a page) is not searched, each of the labels tried at each character.
    if not any(mark in line for mark in _LABEL_MARKS):
        return False
    return _LABEL_RE.search(line) is not None


def split_labels(line: str) -> list[tuple[str, str]]:
    """``来源：A 作者：B`` -> [("来源", "A"), ("作者", "B")]; text before the first label is
    returned with an empty label."""
    out: list[tuple[str, str]] = []
    matches = list(_LABEL_RE.finditer(line))
    first = matches[0].start() if matches else len(line)
    if line[:first].strip():
        out.append(("", line[:first].strip()))
    for k, m in enumerate(matches):
        end = matches[k + 1].start() if k + 1 < len(matches) else len(line)
        out.append((m.group("label"), line[m.end() : end].strip()))
    return out


def _tokens(value: str) -> list[str]:
    return [t.strip(_EDGE) for t in re.split(r"[\s|丨]+", value) if t.strip(_EDGE)]


def clean_source(value: str) -> str | None:
    value = _DATE_CHUNK.sub(" ", value)
    tokens = [t for t in _tokens(value) if t not in _JUNK_TOKENS]
    if not tokens:
        return None
    first = tokens[0]
    if re.fullmatch(r"[A-Za-z0-9 .&'\-]+", value.strip(_EDGE)):
        first = value.strip(_EDGE)
    if len(first) > 40 or re.fullmatch(r"[\d.:\-]+", first):
        return None
    return first


_PERSON_PREFIX = re.compile(
    r"^(?:.{0,12}?(?:见习|特约|实习|首席)?记者|.{0,10}?专栏作者|.{0,10}?通讯员|本报|本刊)\s*"
)
_PERSON_SUFFIX = re.compile(r"\s*(?:[\u4e00-\u9fff]{0,8}报道|发自\S*|摄影?|供稿|整理|编译)$")


_GENERIC_CREDIT = frozenset({"网络", "本站", "本网", "网友", "综合"})


def clean_person(value: str) -> str | None:
    value = _DATE_CHUNK.sub(" ", value).strip(_EDGE + "□■●")
    value = _PERSON_PREFIX.sub("", value).strip(_EDGE)
    tokens = [t for t in _tokens(value) if t not in _JUNK_TOKENS]
    kept: list[str] = []
    for token in tokens:
        if kept and re.search(r"(报道|发自)", token):
            break
        stripped = _PERSON_SUFFIX.sub("", token).strip(_EDGE)
        # "网络整理" credits the web, not a person called 网络: keep it whole
        token = token if stripped in _GENERIC_CREDIT else stripped
        if not token or token in _JUNK_TOKENS:
            continue
        if re.search(r"(报道|发自|讯)$", token):
            break
        kept.append(token)
    if not kept:
        return None
    result = " ".join(kept)
    if len(result) > 40:
        return None
    return result


def clean_editor(value: str) -> str | None:
    value = re.split(r"[）)】\]]", value, maxsplit=1)[0]
    return clean_person(value)


MAX_META_LINE = 2000  # longer lines are prose, not metadata: read their start only


@dataclass
class MetaFields:
    values: dict[str, Field] = field(default_factory=dict)
    time: datetime | None = None
    time_where: str = ""

    def put(self, name: str, value: str | None, where: str) -> None:
        if value and name not in self.values:
            self.values[name] = Field(value, where)


def read_line(
    line: str,
    fields: MetaFields,
    where: str,
    now: datetime,
    url: str | None,
    *,
    near: bool,
    labelled_only: bool = False,
) -> None:
    """Read every labelled field of one meta line into ``fields`` (first value wins). With
    ``labelled_only`` a time is taken only after a time label (lines far from the headline)."""
    parts = split_labels(line[:MAX_META_LINE])
    labelled_source = any(_LABEL_KIND.get(label) == "source" for label, _ in parts)
    for label, value in parts:
        kind = _LABEL_KIND.get(label, "")
        tag = f"{where} {label}".strip()
        if kind == "source":
            fields.put("source", clean_source(value), tag)
        elif kind == "editor":
            current = fields.values.get("editor")
            editor = clean_editor(value)
            if editor and label == "责任编辑" and current and current.where == f"{where} 编辑":
                del fields.values["editor"]
            fields.put("editor", editor, tag)
        elif kind == "author":
            fields.put("author", clean_person(value), tag)
        elif kind == "repost":
            fields.put("repost_from", clean_source(value) if value else None, tag)
        time_kinds = ("time",) if labelled_only else ("time", "", "source", "author")
        if fields.time is None and kind in time_kinds:
            found = find_datetimes(value, now=now, url=url)
            if found:
                fields.time, fields.time_where = found[0][1], tag
                if near and not labelled_source and kind in ("time", ""):
                    _unlabelled_source(value, found[0][0], fields, where)


_NOTE = re.compile(r"[\[【(（][\u4e00-\u9fff]{1,4}[\]】)）]")  # 游民星空[整理]


def _unlabelled_source(value: str, pos: int, fields: MetaFields, where: str) -> None:
    """The outlet printed next to the time with no label, e.g. ``2022-02-13 09:57 光明网``."""
    rest = _DATE_CHUNK.sub(" ", _NOTE.sub(" ", value[pos:]))
    tokens = [t for t in _tokens(rest) if t not in _JUNK_TOKENS]
    if not tokens:
        before = _DATE_CHUNK.sub(" ", value[:pos])
        tokens = [t for t in _tokens(before) if t not in _JUNK_TOKENS][-1:]
    if (
        tokens
        and re.fullmatch(r"[\u4e00-\u9fffA-Za-z·\-]{2,20}", tokens[0])
        and not re.search(r"(浏览|阅读|点击|评论|次|人|来源|作者|编辑)", tokens[0])
    ):
        fields.put("source_unlabelled", tokens[0], f"{where} next to time")


# ---------------------------------------------------------------------------------------------
# bylines inside the body

_LEAD_BYLINE = re.compile(
    r"^.{0,40}?(?:讯|电|报道)?\s*[（(]\s*"
    r"(?:(?:本报|本台|本刊|融媒体?|全媒体)?(?:见习|特约|首席)?记者|通讯员|文/图|文|作者)[\s:：]*"
    r"(?P<names>[^）)]{2,40})[）)]"
)
_UNBRACKETED_BYLINE = re.compile(  # 南风网讯 记者 贾伟 通讯员 孟涛轩 10月12日，…
    r"^.{0,20}?讯\s*(?:本报|见习|特约|首席)?记者\s*"
    r"(?P<names>[\u4e00-\u9fff·]{2,4}(?:[\s、]+[\u4e00-\u9fff·]{2,4}){0,5})\s"
)
_DATELINE_BYLINE = re.compile(r"^.{2,30}?电\s*[（(]\s*(?P<names>[\u4e00-\u9fff]{2,4})\s*[）)]")
_TAIL_BYLINE = re.compile(
    r"[（(]\s*(?:(?:本报|见习|特约)?记者|文/图|图/文|文|作者|通讯员)?[\s:：/]*"
    r"(?P<names>[\u4e00-\u9fff·]{2,5}(?:[\s、，,]+[\u4e00-\u9fff·]{2,5}){0,4})\s*[）)]\s*$"
)
_EDITOR_TAIL = re.compile(
    r"[（(【\[]\s*(?:责任编辑|责编|编辑)\s*[:：]\s*(?P<names>[^）)】\]]{2,40})"
)
_STANDALONE_BYLINE = re.compile(
    r"^[□■●◎\s]*(?:.{0,12}?(?:见习|特约|首席)?记者|采写|撰文|文/图|文|作者)[\s:：/]*"
    r"(?P<names>[\u4e00-\u9fff·]{2,4}(?:[\s、，,]+[\u4e00-\u9fff·]{2,4}){0,4}?)"
    r"(?:\s*\S{0,10}报道|\s*发自\S{0,10})?$"
)
_SLASH_BYLINE = re.compile(
    r"^[^。，！？]{0,16}?记者\s*(?P<names>[\u4e00-\u9fff·]{2,4}(?:[\s、，,]+[\u4e00-\u9fff·]{2,4}){0,3})"
    r"\s*/\s*[文图](?:[^。，！？]{0,10})$"
)
_NOT_NAMES = re.compile(r"^(完|责编|编辑|原标题|新华社|中新社|图|组图|视频|记者|通讯员|摘编|综合)")


def lead_author(text: str) -> str | None:
    m = _LEAD_BYLINE.match(text) or _DATELINE_BYLINE.match(text) or _UNBRACKETED_BYLINE.match(text)
    if not m:
        return None
    names = re.split(r"\s*通讯员", m.group("names"))[0]
    return clean_person(names)


def tail_author(text: str) -> str | None:
    m = _TAIL_BYLINE.search(text)
    if not m or _NOT_NAMES.match(m.group("names")):
        return None
    names = m.group("names")
    if re.search(r"[社网报台]$", names):
        return None
    return clean_person(names)


def tail_editor(text: str) -> str | None:
    m = _EDITOR_TAIL.search(text)
    return clean_editor(m.group("names")) if m else None


def standalone_byline(text: str) -> str | None:
    m = _STANDALONE_BYLINE.match(text) or _SLASH_BYLINE.match(text)
    if not m or _NOT_NAMES.match(m.group("names")):
        return None
    return clean_person(m.group("names"))


# ---------------------------------------------------------------------------------------------
# publish time from <head> and the URL

_TIME_METAS = (
    "article:published_time",
    "og:article:published_time",
    "og:release_date",
    "pubdate",
    "publishdate",
    "publish_date",
    "publishtime",
    "publish-time",
    "datepublished",
    "dc.date",
    "dc.date.issued",
    "sailthru.date",
    "weibo:article:create_at",
    "og:time",
    "firstpublishedtime",
    "releasedate",
    "date",
)


def head_time(head: HeadInfo, now: datetime, url: str | None) -> tuple[datetime | None, str]:
    for key in _TIME_METAS:
        value = head.metas.get(key)
        if value:
            found = parse_datetime(value, now=now, url=url)
            if found is not None:
                return found, f"meta {key}"
    for value in head.jsonld_dates:
        found = parse_datetime(value, now=now, url=url)
        if found is not None:
            return found, "json-ld datePublished"
    day = date_from_url(url)
    if day is not None:
        found = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
        if found <= now:
            return found, "url"
    return None, ""


def head_source(head: HeadInfo) -> str | None:
    for key in ("source", "contentsource", "article:source", "mediaid"):
        value = head.metas.get(key)
        if value and len(value) <= 30:
            return clean_source(value)
    return None


def first_of(values: Sequence[str | None]) -> str | None:
    for v in values:
        if v:
            return v
    return None
