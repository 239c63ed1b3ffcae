"""HTML page templates, one flavour per outlet style.

The pages carry the noise real news pages carry (navigation, breadcrumbs, share
widgets, related and recommended lists with their own dates, ads and footers) so
extractors are tested against something realistic.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from kuaizhao.sampleweb.corpus import Article, Corpus, View, fmt
from kuaizhao.sampleweb.sites import Site
from kuaizhao.sampleweb.text import CATEGORIES

PAGE_SIZE = {"renmin": 8, "xinhua": 10, "system": 6, "paper": 10, "trs": 7, "portal": 5}


def e(text: str) -> str:
    return escape(text, quote=True)


@dataclass(frozen=True)
class Link:
    href: str
    title: str
    ts: int


def base(site: Site) -> str:
    return f"/{site.slug}/"


def head(site: Site, title: str, extra: str = "") -> str:
    if site.style in ("trs", "paper"):
        doctype = (
            '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
            '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
            '<html xmlns="http://www.w3.org/1999/xhtml">'
        )
        meta = f'<meta http-equiv="Content-Type" content="text/html; charset={site.declared}" />'
    else:
        doctype = '<!DOCTYPE html>\n<html lang="zh-CN">'
        meta = f'<meta charset="{site.declared}">'
    return (
        f"{doctype}\n<head>\n{meta}\n<title>{e(title)}</title>\n"
        f'<meta name="keywords" content="{e(site.name)},新闻,资讯">\n'
        f'<link rel="stylesheet" href="{base(site)}css/main.css">\n{extra}</head>\n'
    )


def nav(site: Site) -> str:
    items = [f'<a href="{base(site)}">首页</a>']
    for cat in range(len(CATEGORIES)):
        items.append(f'<a href="{base(site)}{site.list_path(cat)}">{site.labels[cat]}</a>')
    search = f"{base(site)}{site.search_prefix}?q="
    return (
        f'<div class="top-bar"><a href="{base(site)}" class="logo">{e(site.name)}</a>'
        f'<form class="search" action="{base(site)}{site.search_prefix}" method="get">'
        f'<input name="q" type="text"><button>搜索</button></form>'
        f'<a href="{search}%E7%83%AD%E7%82%B9">热搜</a></div>\n'
        f'<div class="nav">{" | ".join(items)}</div>\n'
    )


def breadcrumb(site: Site, cat: int) -> str:
    chan = f'<a href="{base(site)}{site.list_path(cat)}">{site.labels[cat]}</a>'
    home = f'<a href="{base(site)}">首页</a>'
    if site.style == "renmin":
        return f'<div class="route"><a href="{base(site)}">{e(site.name)}</a>&gt;&gt;{chan}</div>'
    if site.style == "trs":
        return f'<div class="crumb">当前位置：{home} &gt; 新闻中心 &gt; {chan}</div>'
    if site.style == "system":
        return f'<div class="location">您当前的位置：{home} &gt; {chan} &gt; 正文</div>'
    return f'<div class="breadcrumb">{home} &gt; {chan}</div>'


def share(site: Site) -> str:
    return (
        '<div class="share-box">分享到：<a href="javascript:;" class="wx">微信</a> '
        '<a href="javascript:;" class="wb">微博</a> <a href="javascript:;" class="qz">QQ空间</a>'
        "</div>"
    )


def link_list(css: str, heading: str, links: list[Link], date_pattern: str) -> str:
    rows = "".join(
        f'<li><a href="{e(x.href)}" target="_blank">{e(x.title)}</a>'
        f'<span class="date">{fmt(x.ts, date_pattern)}</span></li>'
        for x in links
    )
    return f'<div class="{css}"><h3>{heading}</h3><ul>{rows}</ul></div>\n'


def ad(site: Site, n: int) -> str:
    return (
        f'<div class="ad-box"><a href="{base(site)}{site.search_prefix}?q=promo{n}" rel="nofollow">'
        f'<img src="{base(site)}ad/banner_{n}.png" alt="广告" width="300" height="60"></a>'
        '<span class="ad-tag">广告</span></div>\n'
    )


def footer(site: Site) -> str:
    return (
        '<div class="footer"><p><a href="#">关于我们</a> | <a href="#">联系我们</a> | '
        '<a href="#">广告服务</a> | <a href="#">网站地图</a></p>'
        f"<p>Copyright &copy; 2024-2025 {e(site.name)} All Rights Reserved. 版权所有</p>"
        f"<p>{site.icp}-1 | 互联网新闻信息服务许可证编号：10120170099 | "
        "违法和不良信息举报电话：010-12345678</p>"
        f"<p>未经{e(site.name)}书面授权，不得转载、摘编或利用其它方式使用本网站内容。</p></div>\n"
        "</body>\n</html>\n"
    )


def pager(hrefs: list[str], current: int, style: str) -> str:
    """Page links: 上一页, numbered pages, 下一页 (``current`` counts from 1)."""
    if len(hrefs) <= 1:
        return ""
    parts = []
    if style in ("system", "trs", "paper"):
        parts.append(f'<a href="{hrefs[0]}">首页</a>')
    if current > 1:
        parts.append(f'<a href="{hrefs[current - 2]}" class="prev">上一页</a>')
    for i, href in enumerate(hrefs, 1):
        parts.append(f"<span>{i}</span>" if i == current else f'<a href="{href}">{i}</a>')
    if current < len(hrefs):
        parts.append(f'<a href="{hrefs[current]}" class="next">下一页</a>')
    if style in ("system", "trs", "paper"):
        parts.append(f'<a href="{hrefs[-1]}">尾页</a>')
    return f'<div class="page_n">{" ".join(parts)}</div>\n'


# -- article bodies ----------------------------------------------------------------


def _image(site: Site, src: str, alt: str, caption: str) -> str:
    s = e(src)
    c = e(caption)
    if site.style == "renmin":
        return (
            f'<p class="pic" style="text-align: center;"><img src="{s}" alt="{e(alt)}"></p>\n'
            f'<p style="text-align: center;">{c}</p>\n'
        )
    if site.style == "system":
        return f'<figure class="img"><img src="{s}"><figcaption>{c}</figcaption></figure>\n'
    if site.style == "paper":
        return (
            '<table class="pic-table" align="center"><tr><td align="center">'
            f'<img src="{s}" border="0"></td></tr>\n<tr><td class="pic-txt">{c}</td></tr></table>\n'
        )
    if site.style == "portal":
        return f'<div class="img-wrap"><img src="{s}"></div>\n<p class="img-desc">{c}</p>\n'
    return f'<p align="center"><img src="{s}" border="0"></p>\n<p align="center">{c}</p>\n'


def body_html(view: View, page: int, origin: str) -> str:
    site = view.site
    parts = []
    for i in view.pages[page - 1]:
        text, img = view.blocks[i]
        if img is None:
            parts.append(f"<p>{e(text)}</p>\n")
        else:
            src = img[1].replace("@", f"{origin}/{site.slug}/", 1)
            parts.append(_image(site, src, view.title, text))
    return "".join(parts)


def meta_html(view: View, cat: int) -> str:
    """The metadata lines under the headline, in the outlet's own shape."""
    a, site = view.article, view.site
    src = e(view.source)
    author = e(view.author or "")
    if site.style == "renmin":
        return (
            f'<div class="channel cf"><div class="col-1-1">{fmt(a.ts, "%Y年%m月%d日%H:%M")} | '
            f'来源：<a href="{base(site)}">{src}</a></div>{share(site)}</div>\n'
        )
    if site.style == "xinhua":
        return (
            f'<div class="header-time"><span class="h-time">{fmt(a.ts, "%Y-%m-%d %H:%M:%S")}</span>'
            f' <span class="source">来源：{src}</span></div>\n'
        )
    if site.style == "system":
        by = f'<span id="author_baidu">作者：{author}</span>　' if author else ""
        return (
            f'<div class="artInfo"><span id="source_baidu">来源：{src}</span>　{by}'
            f'<span id="pubtime_baidu">发布时间：{fmt(a.ts, "%Y-%m-%d %H:%M:%S")}</span></div>\n'
        )
    if site.style == "paper":
        reporter = "本报记者 " if a.origin < 0 else ""
        by = f"作者：{reporter}{author}　" if author else ""
        return (
            f'<div class="info">{by}来源：{src}　发布时间：{fmt(a.ts, "%Y-%m-%d %H:%M")}'
            f"　{e(site.name)} 第A0{cat + 1}版：{site.labels[cat]}</div>\n"
        )
    if site.style == "trs":
        by = f"　作者：{author}" if author else ""
        return (
            f'<div class="xxgk-info">发布时间：{fmt(a.ts, "%Y-%m-%d %H:%M")}　来源：{src}{by}'
            '　【字体：<a href="javascript:;">大</a> <a href="javascript:;">中</a> '
            '<a href="javascript:;">小</a>】'
            f'　<a href="{base(site)}{site.print_prefix}{a.num}.html">打印本页</a></div>\n'
        )
    return (
        f'<div class="info"><span>类别:{CATEGORIES[cat]}</span> '
        f"<span>发布时间:{fmt(a.ts, '%Y-%m-%d %H:%M:%S')}</span> <span>来源:{src}</span></div>\n"
        f'<div class="zhuanzai">本文转自:{e(view.repost_from or "")}</div>\n'
    )


def editor_html(view: View) -> str:
    site, editor = view.site, e(view.editor or "")
    if not editor:
        return ""
    if site.style == "renmin":
        return f'<div class="edit cf">（责编：{editor}）</div>\n'
    if site.style == "xinhua":
        return f'<div id="articleEdit"><span class="editor">【责任编辑:{editor}】</span></div>\n'
    if site.style == "paper":
        return f'<div class="editor">编辑：{editor}</div>\n'
    return f'<div class="zrbj">责任编辑：{editor}</div>\n'


def article_page(
    corpus: Corpus, view: View, page: int, related: list[Link], hot: list[Link]
) -> str:
    site, a = view.site, view.article
    cat = a.cat
    hrefs = [
        f"{base(site)}{site.article_path(cat, a.num, a.ymd, i + 1)}" for i in range(len(view.pages))
    ]
    title = view.title
    extra = ""
    if site.style == "renmin":
        extra = f'<meta name="publishdate" content="{fmt(a.ts, "%Y-%m-%d")}">\n'
    elif site.style == "system":
        extra = f'<meta name="author" content="{e(view.author or "")}">\n'
    out = [head(site, f"{title}--{site.labels[cat]}--{site.name}", extra), "<body>\n"]
    out.append(nav(site))
    out.append(ad(site, 1))
    out.append(breadcrumb(site, cat))
    out.append(f'<div class="article" id="article">\n<h1 class="title">{e(title)}</h1>\n')
    out.append(meta_html(view, cat))
    out.append(
        f'<div class="content" id="content">\n{body_html(view, page, corpus.origin)}</div>\n'
    )
    out.append(pager(hrefs, page, site.style))
    out.append(editor_html(view))
    out.append(
        f'<div class="tools"><a href="{base(site)}{site.print_prefix}{a.num}.html">【打印】</a> '
        '<a href="javascript:window.close()">【关闭窗口】</a></div>\n'
    )
    if site.style != "renmin":
        out.append(share(site))
    out.append("</div>\n")
    out.append(link_list("related", "相关新闻", related, "%Y-%m-%d %H:%M"))
    out.append(ad(site, 2))
    out.append(link_list("hot", "热点推荐", hot, "%m-%d"))
    out.append(footer(site))
    return "".join(out)


def list_page(
    site: Site, heading: str, links: list[Link], hrefs: list[str], page: int, feed: str | None
) -> str:
    extra = ""
    if feed:
        extra = (
            '<link rel="alternate" type="application/rss+xml" '
            f'title="{e(heading)}" href="{feed}">\n'
        )
    title = f"{heading}--{site.name}" if page == 1 else f"{heading}（第{page}页）--{site.name}"
    out = [head(site, title, extra), "<body>\n", nav(site), ad(site, 1)]
    out.append(f'<div class="list-box"><h2>{e(heading)}</h2>\n')
    out.append(link_list("news-list", "", links, "%Y-%m-%d %H:%M").replace("<h3></h3>", ""))
    out.append(pager(hrefs, page, site.style))
    out.append("</div>\n")
    if feed:
        out.append(f'<p class="rss"><a href="{feed}">RSS订阅</a></p>\n')
    out.append(footer(site))
    return "".join(out)


def home_page(
    corpus: Corpus, site: Site, latest: list[Link], channels: list[tuple[int, list[Link]]]
) -> str:
    out = [head(site, f"{site.name}_首页"), "<body>\n", nav(site), ad(site, 1)]
    out.append(link_list("focus", "要闻", latest, "%m-%d %H:%M"))
    for cat, links in channels:
        more = f'<a class="more" href="{base(site)}{site.list_path(cat)}">更多&gt;&gt;</a>'
        out.append(link_list(f"chan chan-{cat}", site.labels[cat] + more, links, "%m-%d"))
    feeds = " ".join(
        f'<a href="{base(site)}rss/{site.channels[c]}.xml">{site.labels[c]}</a>'
        for c in range(len(CATEGORIES))
    )
    out.append(f'<div class="rss-links">RSS订阅：{feeds}</div>\n')
    out.append(footer(site))
    return "".join(out)


def simple_page(site: Site, title: str, text: str) -> str:
    return f"{head(site, title)}<body>\n<h1>{e(title)}</h1>\n<p>{e(text)}</p>\n{footer(site)}"


def links_for(corpus: Corpus, site: Site, arts: list[Article]) -> list[Link]:
    return [
        Link(base(site) + site.article_path(a.cat, a.num, a.ymd), corpus.title(a), a.ts)
        for a in arts
    ]
