"""The sample outlets: names, encodings and URL shapes.

Every outlet lives under ``/<slug>/`` on the one sample server. URL shapes imitate
the content management systems Chinese news sites commonly run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kuaizhao.sampleweb.text import CATEGORIES


@dataclass(frozen=True)
class Site:
    slug: str
    name: str
    short: str
    style: str
    encoding: str  # the real encoding of the bytes
    declared: str  # the charset the page declares in <meta>
    header_charset: bool  # whether Content-Type carries the charset
    channels: tuple[str, ...]  # per category (CATEGORIES order): code used in URLs
    labels: tuple[str, ...]  # per category: channel name shown on the site
    article_fmt: str  # relative to the outlet base; {ch} {Y} {m} {d} {num} {suffix}
    article_re: str  # regex of the article path (groups ch, num, page), relative to the base
    list_fmt: str  # {ch} {suffix}
    home_index: str
    image_re: str
    num_base: int
    num_width: int
    multipage: bool
    originates: bool  # publishes its own stories (else only reposts)
    print_prefix: str  # robots-disallowed printer-friendly pages
    search_prefix: str  # robots-disallowed site search
    icp: str

    @property
    def compiled(self) -> re.Pattern[str]:
        return _compiled(self.article_re)

    @property
    def compiled_image(self) -> re.Pattern[str]:
        return _compiled(self.image_re)

    def article_path(self, cat: int, num: int, ymd: tuple[str, str, str], page: int = 1) -> str:
        y, m, d = ymd
        suffix = f"_{page}" if page > 1 else ""
        ch = self.channels[cat]
        number = f"{num:0{self.num_width}d}"
        return self.article_fmt.format(ch=ch, Y=y, m=m, d=d, num=number, suffix=suffix)

    def image(self, cat: int, num: int, ymd: tuple[str, str, str], k: int) -> tuple[str, str]:
        """(path under the outlet base, src as the page writes it; "@" stands for the base URL)."""
        y, m, d = ymd
        ch = self.channels[cat]
        n = f"{num:0{self.num_width}d}"
        form, path_fmt, src_fmt = _IMAGES[self.style]
        path = path_fmt.format(ch=ch, Y=y, m=m, d=d, num=n, k=k)
        if form == "abs":
            return path, "@" + path
        if form == "root":
            return path, f"/{self.slug}/{path}"
        return path, src_fmt.format(ch=ch, Y=y, m=m, d=d, num=n, k=k)

    def list_path(self, cat: int, page: int = 1) -> str:
        suffix = f"_{page}" if page > 1 else ""
        return self.list_fmt.format(ch=self.channels[cat], suffix=suffix)

    def category_pattern(self, cat: int) -> str:
        """Regex (searched in the absolute URL) that marks an article of ``cat``."""
        ch = re.escape(self.channels[cat])
        if self.style == "renmin":
            return f"/{self.slug}/n1/\\d{{4}}/\\d{{4}}/c{ch}-"
        if self.style == "trs":
            return f"/{self.slug}/xwzx/{ch}/"
        return f"/{self.slug}/{ch}/"

    def toml_article_pattern(self) -> str:
        """The article regex for the outlet config: first pages only, anchored at the end."""
        core = re.sub(r"\(\?:_\(\?P<page>\\d\+\)\)\?", "", self.article_re)
        core = re.sub(r"\(\?P<\w+>", "(?:", core)
        return f"/{self.slug}/{core}$"


_CACHE: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    found = _CACHE.get(pattern)
    if found is None:
        found = _CACHE[pattern] = re.compile(pattern)
    return found


_IMAGES: dict[str, tuple[str, str, str]] = {
    "renmin": ("abs", "NMediaFile/{Y}/{m}{d}/MAIN{num}{k}.png", ""),
    "xinhua": ("rel", "{ch}/{Y}-{m}/{d}/{num}_{k}_n.png", "{num}_{k}_n.png"),
    "system": ("root", "pic/{Y}{m}/{num}_{k}.png", ""),
    "paper": (
        "rel",
        "{ch}/content/res/{Y}-{m}/{d}/{num}_{k}.png",
        "../../res/{Y}-{m}/{d}/{num}_{k}.png",
    ),
    "trs": ("rel", "xwzx/{ch}/{Y}{m}/W0{Y}{m}{d}{num}0{k}.png", "./W0{Y}{m}{d}{num}0{k}.png"),
    "portal": ("abs", "img/{Y}{m}{d}/{num}_{k}.png", ""),
}

_PAGE = r"(?:_(?P<page>\d+))?"

SITES: tuple[Site, ...] = (
    Site(
        slug="huaxia", name="华夏日报网", short="华夏", style="renmin",
        encoding="utf-8", declared="utf-8", header_charset=True,
        channels=("1001", "1002", "1004", "1007", "14820", "1008", "1013"),
        labels=("时政", "国际", "财经", "科技", "体育", "社会", "文化"),
        article_fmt="n1/{Y}/{m}{d}/c{ch}-{num}{suffix}.html",
        article_re=r"n1/\d{4}/\d{4}/c(?P<ch>\d+)-(?P<num>\d+)" + _PAGE + r"\.html",
        list_fmt="GB/{ch}/index{suffix}.html", home_index="index.html",
        image_re=r"NMediaFile/\d{4}/\d{4}/MAIN\d+\.png",
        num_base=30012345, num_width=8, multipage=True, originates=True,
        print_prefix="print/", search_prefix="search/", icp="京ICP备12012345号",
    ),
    Site(
        slug="jiangbei", name="江北新闻网", short="江北", style="xinhua",
        encoding="utf-8", declared="utf-8", header_charset=True,
        channels=("politics", "world", "fortune", "tech", "sports", "local", "culture"),
        labels=("时政", "国际", "财经", "科技", "体育", "社会", "文化"),
        article_fmt="{ch}/{Y}-{m}/{d}/c_{num}{suffix}.htm",
        article_re=r"(?P<ch>[a-z]+)/\d{4}-\d{2}/\d{2}/c_(?P<num>\d+)" + _PAGE + r"\.htm",
        list_fmt="{ch}/index{suffix}.htm", home_index="index.htm",
        image_re=r"[a-z]+/\d{4}-\d{2}/\d{2}/\d+_\d+_n\.png",
        num_base=1130012345, num_width=10, multipage=True, originates=True,
        print_prefix="print/", search_prefix="search/", icp="京ICP备13023456号",
    ),
    Site(
        slug="nanfeng", name="南风网", short="南风", style="system",
        encoding="gbk", declared="gbk", header_charset=True,
        channels=("gn", "gj", "cj", "kj", "ty", "sh", "wh"),
        labels=("国内新闻", "国际新闻", "财经", "科技", "体育", "社会", "文化"),
        article_fmt="{ch}/system/{Y}/{m}/{d}/{num}{suffix}.shtml",
        article_re=r"(?P<ch>[a-z]+)/system/\d{4}/\d{2}/\d{2}/(?P<num>\d+)" + _PAGE + r"\.shtml",
        list_fmt="{ch}/index{suffix}.shtml", home_index="index.shtml",
        image_re=r"pic/\d{6}/\d+_\d+\.png",
        num_base=30012345, num_width=9, multipage=False, originates=True,
        print_prefix="dayin/", search_prefix="search/", icp="浙ICP备10034567号",
    ),
    Site(
        slug="xibei", name="西北日报", short="西北", style="paper",
        encoding="gb2312", declared="gb2312", header_charset=True,
        channels=("yaowen", "guoji", "jingji", "keji", "tiyu", "shehui", "wenhua"),
        labels=("要闻", "国际", "经济", "科教", "体育", "社会", "文化"),
        article_fmt="{ch}/content/{Y}-{m}/{d}/content_{num}{suffix}.htm",
        article_re=(
            r"(?P<ch>[a-z]+)/content/\d{4}-\d{2}/\d{2}/content_(?P<num>\d+)" + _PAGE + r"\.htm"
        ),
        list_fmt="{ch}/node{suffix}.htm", home_index="index.htm",
        image_re=r"[a-z]+/content/res/\d{4}-\d{2}/\d{2}/\d+_\d+\.png",
        num_base=120345, num_width=6, multipage=False, originates=True,
        print_prefix="print/", search_prefix="search/", icp="陕ICP备11045678号",
    ),
    Site(
        slug="lanshan", name="岚山新闻网", short="岚山", style="trs",
        encoding="utf-8", declared="gb2312", header_charset=False,
        channels=("gnxw", "gjxw", "cjxw", "kjxw", "tyxw", "shxw", "whxw"),
        labels=("国内新闻", "国际新闻", "财经新闻", "科技新闻", "体育新闻", "社会新闻", "文化新闻"),
        article_fmt="xwzx/{ch}/{Y}{m}/t{Y}{m}{d}_{num}{suffix}.html",
        article_re=r"xwzx/(?P<ch>[a-z]+)/\d{6}/t\d{8}_(?P<num>\d+)" + _PAGE + r"\.html",
        list_fmt="xwzx/{ch}/index{suffix}.html", home_index="index.html",
        image_re=r"xwzx/[a-z]+/\d{6}/W0\d+\.png",
        num_base=5012345, num_width=7, multipage=False, originates=True,
        print_prefix="dyxx/", search_prefix="jsearch/", icp="鲁ICP备14056789号",
    ),
    Site(
        slug="kuaixun", name="快讯资讯", short="快讯", style="portal",
        encoding="utf-8", declared="utf-8", header_charset=True,
        channels=("guonei", "guoji", "caijing", "keji", "tiyu", "shehui", "wenhua"),
        labels=CATEGORIES,
        article_fmt="{ch}/a/{Y}{m}{d}/{num}{suffix}.html",
        article_re=r"(?P<ch>[a-z]+)/a/\d{8}/(?P<num>\d+)" + _PAGE + r"\.html",
        list_fmt="{ch}/index{suffix}.html", home_index="index.html",
        image_re=r"img/\d{8}/\d+_\d+\.png",
        num_base=812345, num_width=6, multipage=False, originates=False,
        print_prefix="print/", search_prefix="so/", icp="粤ICP备15067890号",
    ),
)  # fmt: skip

SITE_BY_SLUG = {s.slug: s for s in SITES}
