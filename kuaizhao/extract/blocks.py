"""Turn the chosen body node(s) into blocks: paragraphs, sub-headings, images, captions, tables."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kuaizhao.extract.html import HtmlElement, Line, Stats, collapse, iter_lines, token_set
from kuaizhao.extract.types import Block
from kuaizhao.lib.surt import join_url
from kuaizhao.lib.zh import normalize

SKIP_TOKENS = frozenset(
    {
        "share",
        "sharing",
        "bdshare",
        "jiathis",
        "fenxiang",
        "comment",
        "comments",
        "pinglun",
        "related",
        "relate",
        "recommend",
        "tuijian",
        "xiangguan",
        "footer",
        "copyright",
        "banquan",
        "pagination",
        "pager",
        "pagebox",
        "pages",
        "paging",
        "page",
        "breadcrumb",
        "crumb",
        "crumbs",
        "toolbar",
        "tools",
        "qrcode",
        "erweima",
        "advert",
        "ads",
        "ad",
        "gg",
        "print",
        "keywords",
        "tags",
        "editor",
        "bianji",
        "zebian",
        "statement",
        "disclaimer",
        "shengming",
        "hidden",
    }
)
_META_LINE = re.compile(
    r"^[\[【（(]?\s*(?:信息来源|文章来源|新闻来源|稿件来源|来源于|来源|稿源|出处|来自|作者|撰文|撰稿|采写"
    r"|本报记者|记者|通讯员|责任编辑|值班编辑|编辑|责编|编审|审核|审校|校对|终审|初审|复审|监制|签发"
    r"|发布时间|发布日期|发表时间|更新时间|时间|日期|本文转自|转载自|原文转自|转自|原文链接|原文地址"
    r"|文/图|图/文|摄影|文|图|浏览次数|阅读|点击|浏览|字号)\s*[:：/︱]"
)
_BOILER = re.compile(
    r"^(?:展开全文|返回搜狐|查看更多|点击(?:进入|查看|阅读|这里|展开|关注|下载)|分享到|分享至|扫一扫|扫描二维码|"
    r"打印|关闭窗口|关闭|上一页|下一页|上一篇|下一篇|相关(?:新闻|阅读|文章|链接|推荐)|更多精彩|推荐阅读|"
    r"延伸阅读|热门推荐|热点推荐|[-—\s]*THE\s*END[-—\s]*$|【?纠错】?|举报|收藏|免责声明|版权(?:所有|声明)|"
    r"正在加载|本文来源|特别声明|声明[:：]|【打印】|\[打印\]|责任编辑|本文为.{0,30}(?:原创|独家)|"
    r"原标题[:：]\s*$|Notice:\s*The content above)"
)
_BOILER_ANY = re.compile(
    r"未经(?:授权|许可).{0,20}(?:转载|使用|复制)|转载请注明|版权所有|All Rights Reserved|"
    r"Copyright\s*©|©\s*\d{4}|ICP备|不代表本(?:站|网)观点|如有侵权|扫码关注"
)
_PAGINATION = re.compile(
    r"^(?:[\s\d<>«»‹›\[\]|…·.]|上一页|下一页|首页|末页|尾页|共\d+页|第\d+页)+$"
)
_BYLINE = re.compile(
    r"^[□■●◎\s]*(?:[^。，！？]{0,12}?(?:见习|特约|首席)?记者|采写|撰文)[\s:：]*"
    r"[\u4e00-\u9fff·]{2,4}(?:[\s、，,]+[\u4e00-\u9fff·]{2,4}){0,4}(?:\s*\S{0,10}报道|\s*发自\S{0,10})?$"
)
_SLASH_BYLINE = re.compile(
    r"^[^。，！？]{0,16}?记者\s*[\u4e00-\u9fff·]{2,4}(?:[\s、，,]+[\u4e00-\u9fff·]{2,4}){0,3}"
    r"\s*/\s*[文图][^。，！？]{0,10}$"
)
_DATE = re.compile(r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}")
_SENTENCE_PUNCT = re.compile(r"[，。！？；]")
_SENTENCE_END = re.compile(r"[。！？!?…；;]$|[。！？]”$")
_CAPTION_HINT = re.compile(r"(?:摄|供图|图片来源|图源|资料图|图为|图[:：]|视觉中国|新华社发|\d+摄)")
_ICON = re.compile(r"(?:icon|logo|blank|spacer|loading|pixel|share|qrcode|erweima|1x1)", re.I)
_CENTER = re.compile(r"text-align\s*:\s*center", re.I)
_IMG_ATTRS = ("data-original", "data-src", "data-lazy-src", "data-url", "original", "src")


@dataclass
class Collected:
    blocks: list[Block] = field(default_factory=list)
    meta_lines: list[str] = field(default_factory=list)  # stand-alone meta lines removed
    dropped: list[str] = field(default_factory=list)


def image_src(el: HtmlElement, base_url: str | None) -> str | None:
    for attr in _IMG_ATTRS:
        value = (el.get(attr) or "").strip()
        if value and not value.startswith(("data:", "javascript:", "about:")):
            src = join_url(base_url, value) if base_url else value
            return src if src and src.startswith(("http://", "https://", "/")) else None
    return None


def _tiny(el: HtmlElement) -> bool:
    for attr in ("width", "height"):
        value = re.match(r"\s*(\d+)", el.get(attr) or "")
        if value and int(value.group(1)) < 40:
            return True
    return False


def is_data_table(el: HtmlElement, stats: Stats) -> bool:
    if el.tag != "table":
        return False
    rows = [r for r in el.iter("tr")]
    if len(rows) < 2 or len(rows) > 500:
        return False
    for inner in el.iter("p", "div", "table", "img", "ul", "br"):
        if inner is el:
            continue
        if inner.tag in ("table", "img", "ul"):
            return False
        i = stats.index.get(inner)
        if i is not None and stats.text[i] > 60:
            return False
    cells = [c for r in rows for c in r if c.tag in ("td", "th")]
    if len(cells) < 4 or len(cells) < len(rows) * 2:
        return False
    return all(stats.text[stats.index[c]] <= 80 for c in cells if c in stats.index)


def table_text(el: HtmlElement) -> str:
    lines: list[str] = []
    for row in el.iter("tr"):
        cells = [normalize(" ".join(c.itertext())) for c in row if c.tag in ("td", "th")]
        if any(cells):
            lines.append("\t".join(cells))
    return "\n".join(lines)


def _centered(el: HtmlElement | None) -> bool:
    node = el
    for _ in range(2):
        if node is None:
            return False
        if node.tag == "center" or (node.get("align") or "").lower() == "center":
            return True
        if _CENTER.search(node.get("style") or ""):
            return True
        if token_set(node) & {"caption", "pic", "img", "image", "photo", "tu", "desc", "note"}:
            return True
        node = node.getparent()
    return False


def is_meta_line(text: str) -> bool:
    if len(text) > 90:
        return False
    if _META_LINE.match(text) or _BYLINE.match(text) or _SLASH_BYLINE.match(text):
        return True
    if (
        len(text) <= 40
        and _DATE.search(text)
        and not _SENTENCE_PUNCT.search(text)
        and len(collapse(_DATE.sub("", text))) <= 24
    ):
        return True
    return bool(re.match(r"^[（(【\[]\s*(?:责任编辑|责编|编辑)\s*[:：]", text))


def is_boilerplate(text: str) -> bool:
    if _BOILER.match(text) or _PAGINATION.match(text):
        return True
    return len(text) <= 200 and bool(_BOILER_ANY.search(text))


class _Collector:
    def __init__(self, stats: Stats, base_url: str | None, title: str) -> None:
        self.stats = stats
        self.base_url = base_url
        self.title_key = collapse(title)
        self.out = Collected()
        self.prev_img = False
        self.seen_text = False

    def skip(self, el: HtmlElement) -> bool:
        tokens = token_set(el)
        if tokens & SKIP_TOKENS and not (tokens & {"content", "article", "text", "main"}):
            i = self.stats.index.get(el)
            if i is not None and 0 < self.stats.text[i] <= 120:
                self.out.meta_lines.append(normalize(" ".join(el.itertext())))
            return True
        i = self.stats.index.get(el)
        if i is None or el.tag in ("p", "a", "span", "strong", "b", "img"):
            return False
        return self.stats.text[i] >= 4 and self.stats.link_density(i) > 0.6

    def capture(self, el: HtmlElement) -> bool:
        return el.tag == "img" or is_data_table(el, self.stats)

    def take_image(self, el: HtmlElement) -> None:
        src = image_src(el, self.base_url)
        if src is None or _tiny(el) or _ICON.search(src.rsplit("/", 1)[-1]):
            return
        alt = normalize(el.get("alt") or el.get("title") or "")
        self.out.blocks.append(Block("img", "", src, alt))
        self.prev_img = True

    def take_line(self, line: Line) -> None:
        text = line.text
        key = collapse(text)
        if not key:
            return
        plain = len(key)
        if key == self.title_key:
            return
        kind = self.kind(line)
        if kind == "caption" and ("figcaption" in line.tags or not is_meta_line(text)):
            self.out.blocks.append(Block(kind, text))
            self.prev_img = False
            return
        if is_meta_line(text):
            self.out.meta_lines.append(text)
            return
        if line.link_chars >= plain * 0.6 and plain > 1:
            self.out.dropped.append(text)
            return
        if is_boilerplate(text):
            self.out.dropped.append(text)
            return
        self.out.blocks.append(Block(kind, text))
        self.prev_img = False
        self.seen_text = True

    def kind(self, line: Line) -> str:
        text = line.text
        if "figcaption" in line.tags:
            return "caption"
        if (
            self.prev_img
            and len(text) <= 120
            and (
                _centered(line.block)
                or _CAPTION_HINT.search(text)
                or (len(text) <= 60 and not _SENTENCE_END.search(text))
            )
        ):
            return "caption"
        if line.tags & {"h2", "h3", "h4", "h5", "h6"} and len(text) <= 60:
            return "h"
        if line.tags & {"b", "strong"} and len(text) <= 30 and not _SENTENCE_PUNCT.search(text):
            return "h"
        return "p"


def collect(nodes: list[HtmlElement], stats: Stats, base_url: str | None, title: str) -> Collected:
    collector = _Collector(stats, base_url, title)
    for node in nodes:
        for item in iter_lines(node, stats, skip=collector.skip, capture=collector.capture):
            if isinstance(item, Line):
                collector.take_line(item)
            elif item.tag == "img":
                collector.take_image(item)
            else:
                text = table_text(item)
                if text:
                    collector.out.blocks.append(Block("table", text))
                    collector.prev_img = False
    return collector.out
