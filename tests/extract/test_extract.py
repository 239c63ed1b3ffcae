from __future__ import annotations

from datetime import datetime

import pytest

from kuaizhao.extract import EXTRACTOR_VERSION, Article, extract, merge_pages

CAPTURED = datetime.fromisoformat("2023-06-01T12:00:00+08:00")
PARA = [
    "今年以来，河湾市坚持项目为王，一批重大项目相继落地开工，为经济发展注入了强劲动力。",
    "据介绍，全市一季度完成固定资产投资同比增长百分之十二，其中工业投资增长百分之十八。",
    "下一步，河湾市将持续优化营商环境，做好要素保障，推动更多项目早开工、早投产、早见效。",
]


def page(
    meta: str = "",
    body: str = "",
    title: str = "河湾市一季度重大项目建设提速",
    head: str = "",
    charset: str = "utf-8",
    after: str = "",
) -> str:
    paras = body or "".join(f"<p>{p}</p>" for p in PARA)
    return (
        f'<html><head><meta charset="{charset}"><title>{title}_青禾日报网</title>{head}</head>'
        '<body><div class="top"><a href="/">首页</a> <a href="/a">国内</a></div>'
        f'<div class="wrap"><h1>{title}</h1><div class="meta">{meta}</div>'
        f'<div class="article">{paras}</div>{after}</div></body></html>'
    )


def run(
    html: str, url: str = "http://news.example.cn/gn/2023/0509/c1-1.html", **kw: object
) -> Article:
    return extract(html.encode("utf-8"), url, captured_at=CAPTURED, **kw)  # type: ignore[arg-type]


def test_version_and_basic_fields() -> None:
    article = run(page("发布时间：2023-05-09 20:36 来源：人民网-山西频道"))
    assert EXTRACTOR_VERSION == "2"
    assert article.title == "河湾市一季度重大项目建设提速"
    assert article.publish_time == datetime.fromisoformat("2023-05-09T20:36:00+08:00")
    assert article.source == "人民网-山西频道"
    assert article.body_text == "\n".join(PARA)
    assert article.summary == PARA[0]
    assert article.is_article and article.page_number == 1 and article.encoding == "utf-8"
    assert article.provenance["title"] == "h1"
    assert article.provenance["source"].endswith("来源")


@pytest.mark.parametrize(
    ("meta", "field", "value"),
    [
        ("2023-05-09 20:36 来源：新华社", "source", "新华社"),
        ("稿源：河湾晚报 2023年05月09日 20:36", "source", "河湾晚报"),
        ("出处：快科技 作者：宪瑞", "source", "快科技"),
        ("信息来源：市发改委 发布日期：2023-05-09", "source", "市发改委"),
        ("2023-05-09 20:36 光明网", "source", "光明网"),
        ("作者：张三 来源：人民网", "author", "张三"),
        ("记者 李四 王五 发布时间：2023-05-09", "author", None),
        ("文/图 刘玺东 易赛楠 2023-05-09", "author", "刘玺东 易赛楠"),
        ("编辑：郭倩 责任编辑：刘亮", "editor", "刘亮"),
        ("责编：萧潇、张妍", "editor", "萧潇、张妍"),
        ("本文转自：人民网-山西频道", "repost_from", "人民网-山西频道"),
        ("转载自：河湾晚报", "repost_from", "河湾晚报"),
    ],
)
def test_meta_line_shapes(meta: str, field: str, value: str | None) -> None:
    article = run(page(meta))
    if value is None:
        return
    assert getattr(article, field) == value


def test_lead_byline_author() -> None:
    body = f"<p>本报讯（记者 赵六 通讯员 钱七）{PARA[0]}</p><p>{PARA[1]}</p><p>{PARA[2]}</p>"
    assert run(page("2023-05-09", body)).author == "赵六"


def test_trailing_editor_and_meta_lines_removed_from_body() -> None:
    body = "".join(f"<p>{p}</p>" for p in PARA) + "<p>（责编：周一、王二）</p><p>编辑：孙八</p>"
    article = run(page("2023-05-09 10:00", body))
    assert article.editor == "周一、王二"
    assert article.body_text == "\n".join(PARA)


def test_related_list_dates_not_taken() -> None:
    related = (
        '<div class="related"><ul>'
        + "".join(
            f'<li><a href="/x{i}.html">相关新闻标题第{i}条</a> 2023-04-0{i} 10:00</li>'
            for i in range(1, 5)
        )
        + "</ul></div>"
    )
    article = run(page("", after=related), url="http://news.example.cn/gn/a.html")
    assert article.publish_time is None


def test_future_date_rejected() -> None:
    article = run(page("发布时间：2023-07-01 10:00"), url="http://news.example.cn/gn/a.html")
    assert article.publish_time is None


def test_date_from_meta_tag_and_url() -> None:
    head = '<meta property="article:published_time" content="2023-05-08T09:30:00+08:00">'
    article = run(page("", head=head), url="http://news.example.cn/gn/a.html")
    assert article.publish_time == datetime.fromisoformat("2023-05-08T09:30:00+08:00")
    assert article.provenance["publish_time"] == "meta article:published_time"
    article = run(page(""))
    assert article.publish_time == datetime.fromisoformat("2023-05-09T00:00:00+08:00")
    assert article.provenance["publish_time"] == "url"


def test_json_ld_date() -> None:
    head = (
        '<script type="application/ld+json">'
        '{"@type":"NewsArticle","datePublished":"2023-05-07T08:00:00+08:00"}</script>'
    )
    article = run(page("", head=head), url="http://news.example.cn/gn/a.html")
    assert article.publish_time == datetime.fromisoformat("2023-05-07T08:00:00+08:00")


def test_captions() -> None:
    body = (
        f"<p>{PARA[0]}</p>"
        '<figure><img src="pic/1.jpg" alt="现场">'
        "<figcaption>项目建设现场。记者 宋一帆摄</figcaption></figure>"
        f"<p>{PARA[1]}</p>"
        '<p style="text-align:center"><img data-src="//img.example.cn/2.jpg"></p>'
        '<p style="text-align:center">工人在车间作业。</p>'
        f"<p>{PARA[2]}</p>"
    )
    article = run(page("2023-05-09", body))
    assert [(i.src, i.caption) for i in article.images] == [
        ("http://news.example.cn/gn/2023/0509/pic/1.jpg", "项目建设现场。记者 宋一帆摄"),
        ("http://img.example.cn/2.jpg", "工人在车间作业。"),
    ]
    assert "项目建设现场。记者 宋一帆摄" in article.body_text
    assert "<figcaption>工人在车间作业。</figcaption>" in article.body_html


def test_title_suffix_stripped_without_heading() -> None:
    html = page("2023-05-09").replace("<h1>河湾市一季度重大项目建设提速</h1>", "")
    assert run(html).title == "河湾市一季度重大项目建设提速"


def test_sanitising() -> None:
    body = (
        f'<p onclick="evil()" style="color:red">{PARA[0]}<script>alert(1)</script></p>'
        '<p><img src="javascript:alert(1)"><img src="a.jpg" onerror="alert(2)"></p>'
        f"<p>{PARA[1]}</p>"
        f"<p>{PARA[2]}&lt;script&gt;x&lt;/script&gt;</p>"
    )
    article = run(page("2023-05-09", body))
    html = article.body_html
    assert "<script" not in html and "onerror" not in html and "onclick" not in html
    assert "style=" not in html and "javascript:" not in html
    assert 'src="http://news.example.cn/gn/2023/0509/a.jpg"' in html
    assert "alert(1)" not in article.body_text


@pytest.mark.parametrize(
    ("url", "links", "number", "next_url"),
    [
        (
            "http://n.cn/a/2023/0509/c1-1.html",
            '<a href="c1-1_2.html">下一页</a>',
            1,
            "http://n.cn/a/2023/0509/c1-1_2.html",
        ),
        (
            "http://n.cn/a/c1-1_2.html",
            '<a href="c1-1.html">1</a><span class="cur">2</span><a href="c1-1_3.html">3</a>',
            2,
            "http://n.cn/a/c1-1_3.html",
        ),
        (
            "http://n.cn/a/c1-1_3.html",
            '<a href="c1-1.html">1</a><a href="c1-1_2.html">2</a><span>3</span>',
            3,
            None,
        ),
        ("http://n.cn/a/c1-1.html", '<a href="/next-story.html">下一篇</a>', 1, None),
        (
            "http://n.cn/a/c1-1.html",
            '<span>1</span><a href="c1-1_2.html">2</a><a href="c1-1_3.html">3</a>',
            1,
            "http://n.cn/a/c1-1_2.html",
        ),
    ],
)
def test_pagination(url: str, links: str, number: int, next_url: str | None) -> None:
    article = run(page("2023-05-09", after=f'<div class="pages">{links}</div>'), url=url)
    assert article.page_number == number
    assert article.next_page_url == next_url
    assert "下一页" not in article.body_text


def test_links_no_url_parser_takes_are_left_out_not_the_article() -> None:
    """``http://[x`` (an unclosed IPv6 host) makes urljoin raise: as a page number, a next
    link, an image or the base, it is passed over and the rest of the page is read."""
    url = "http://n.cn/a/c1-1.html"
    images = '<p><img src="http://[z/a.jpg"></p><p><img src="pic.jpg"></p>'
    links = '<a href="http://[x">2</a><a href="//[y">下一页</a><a href="c1-1_2.html">2</a>'
    html = page("2023-05-09", after=f'<div class="pages">{links}</div>', head='<base href="//[b">')
    html = html.replace(f"<p>{PARA[0]}</p>", f"<p>{PARA[0]}</p>{images}")
    article = run(html, url=url)
    assert article.is_article and article.body_text.startswith(PARA[0])
    assert article.next_page_url == "http://n.cn/a/c1-1_2.html"
    assert [image.src for image in article.images] == ["http://n.cn/a/pic.jpg"]


def test_merge_pages() -> None:
    first = run(page("来源：新华社 2023-05-09 10:00", after='<a href="c_2.html">下一页</a>'))
    second_body = "<p>第二页的内容继续介绍项目建设的进展情况，以及下一步的工作打算和具体安排。</p>"
    second = run(
        page("来源：其他 2023-05-10", second_body), url="http://news.example.cn/gn/c_2.html"
    )
    merged = merge_pages([first, second])
    assert merged.source == "新华社" and merged.publish_time == first.publish_time
    assert merged.body_text == first.body_text + "\n" + second.body_text
    assert merged.page_number == 1 and merged.next_page_url is None
    with pytest.raises(ValueError):
        merge_pages([])


def test_list_page_is_not_article() -> None:
    items = "".join(
        f'<li><a href="/n/{i}.html">河湾市第{i}条新闻标题内容比较长一些</a>'
        f"<span>2023-05-0{i % 9 + 1}</span></li>"
        for i in range(40)
    )
    html = (
        f"<html><head><title>国内新闻_青禾日报网</title></head><body><ul>{items}</ul></body></html>"
    )
    assert not run(html).is_article


def test_gbk_page() -> None:
    html = page("来源：青禾日报 2023-05-09 10:00", charset="gbk")
    article = extract(html.encode("gbk"), "http://n.cn/a.html", captured_at=CAPTURED)
    assert article.encoding == "gb18030" and article.source == "青禾日报"
    assert article.body_text == "\n".join(PARA)


def test_declared_gb2312_but_utf8() -> None:
    html = page("来源：青禾日报 2023-05-09 10:00", charset="gb2312")
    article = extract(html.encode("utf-8"), "http://n.cn/a.html", captured_at=CAPTURED)
    assert article.encoding == "utf-8" and article.title == "河湾市一季度重大项目建设提速"


def test_boilerplate_removed() -> None:
    body = "".join(f"<p>{p}</p>" for p in PARA) + (
        "<p>展开全文</p><p>版权所有 青禾日报网 未经授权不得转载</p><p>1 2 3 下一页</p>"
    )
    assert run(page("2023-05-09", body)).body_text == "\n".join(PARA)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        bytes(range(256)) * 40,
        b"\xff\xfe\x00\x00garbage",
        b"<html>",
        b"<?xml version='1.0' encoding='utf-8'?><html><body><p>x</p></body></html>",
        b"<div>" * 5000 + "深层嵌套的段落内容，测试不会出错。".encode() + b"</div>" * 5000,
        ("<p>" + "很长的页面内容，用于测试性能与稳定性。" * 20 + "</p>").encode() * 900,
    ],
)
def test_hostile_input_never_raises(body: bytes) -> None:
    article = extract(body, "http://n.cn/a.html", {"Content-Type": "text/html; charset=bogus"})
    assert isinstance(article, Article)
    assert isinstance(article.body_html, str)


def test_five_megabyte_page() -> None:
    body = page("2023-05-09", "".join(f"<p>{PARA[i % 3]}</p>" for i in range(45000))).encode()
    assert len(body) > 5_000_000
    article = extract(body, "http://n.cn/a.html", captured_at=CAPTURED)
    assert article.is_article
