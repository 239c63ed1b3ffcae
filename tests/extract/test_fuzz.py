"""Any bytes in: an Article or a clean "not an article" out, never an exception or a hang."""

from __future__ import annotations

import gzip
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kuaizhao.extract import Article, extract
from kuaizhao.extract.meta import _LABEL_RE, has_label

URL = "http://news.example.cn/gn/2023/0509/c1-1.html"
PARA = "今年以来，河湾市坚持项目为王，一批重大项目相继落地开工，为经济发展注入了强劲动力。"
UNSAFE = re.compile(r"<script|<iframe|<object|<svg|<style|javascript:|\son\w+=", re.I)

FRAGMENTS = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<div class='content'>",
        "</div>",
        "<h1>",
        "</h1>",
        "<table><tr><td>",
        "</td></tr></table>",
        "<br>",
        "<a href='javascript:alert(1)'>",
        "</a>",
        "<img src='/a.jpg' onerror='alert(1)'>",
        "<script>alert(1)</script>",
        "<style>p{width:expression(alert(1))}</style>",
        "<svg onload='alert(1)'>",
        "<span style='display:none'>",
        "</span>",
        "<!--",
        "-->",
        "<![CDATA[",
        "&#0;",
        "&#x110000;",
        "&nbsp;",
        "\x00",
        "\ufeff",
        "来源：",
        "作者：",
        "责任编辑：",
        "（记者",
        "）",
        "2023-05-09 20:36",
        "昨天 08:00",
        "3小时前",
        "2099年13月45日",
        PARA,
        "下一页",
        "<meta charset='big5'>",
        "<base href='javascript:x'>",
    ]
)


def check(article: Article) -> None:
    assert isinstance(article, Article)
    assert isinstance(article.body_text, str) and isinstance(article.body_html, str)
    assert not UNSAFE.search(article.body_html)
    if not article.is_article:
        assert article.warnings  # a clean reason, not silence
    if article.publish_time is not None:
        assert article.publish_time.tzinfo is not None


@given(st.binary(max_size=4000))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_bytes(body: bytes) -> None:
    check(extract(body, URL))


@given(
    st.lists(FRAGMENTS, max_size=80),
    st.sampled_from(["utf-8", "gb18030", "big5", "utf-16"]),
    st.one_of(st.none(), st.sampled_from(["text/html; charset=gbk", "text/html; charset=x"])),
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_tag_soup(parts: list[str], encoding: str, content_type: str | None) -> None:
    body = "".join(parts).encode(encoding, errors="replace")
    check(extract(body, URL, {"Content-Type": content_type} if content_type else None))


@given(st.text(max_size=300), st.one_of(st.none(), st.text(max_size=60)))
@settings(max_examples=100, deadline=None)
def test_any_text_and_url(text: str, url: str | None) -> None:
    check(extract(f"<html><body><h1>{text}</h1><p>{text}{PARA}</p></body></html>".encode(), url))


def test_twenty_megabyte_page() -> None:
    filler = "<script>var x='" + "x" * (18 * 1024 * 1024) + "';</script>"
    paragraphs = "".join(f"<p>{PARA}{i}</p>" for i in range(20000))
    body = f"<html><body>{filler}<h1>标题</h1><div>{paragraphs}</div></body></html>".encode()
    assert len(body) > 20 * 1024 * 1024
    article = extract(body, URL)
    check(article)
    assert article.is_article and article.body_text.startswith(PARA)


def test_hundred_thousand_nested_divs() -> None:
    body = b"<html><body>" + b"<div>" * 100_000 + PARA.encode() + b"</div>" * 100_000
    check(extract(body, URL))


def test_nul_filled_file() -> None:
    article = extract(b"\x00" * (4 * 1024 * 1024), URL)
    check(article)
    assert not article.is_article


def test_gzip_bomb_given_as_body_is_not_inflated() -> None:
    bomb = gzip.compress(b"<p>" + b"\x00" * (64 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 1024 * 1024
    article = extract(bomb, URL, {"Content-Encoding": "gzip"})
    check(article)
    assert not article.is_article and "gzip data, not HTML" in article.warnings


def test_binary_payloads_are_not_articles() -> None:
    for body in (b"\x89PNG\r\n\x1a\n" + bytes(200), b"%PDF-1.7\n" + bytes(range(256)) * 4):
        article = extract(body, URL)
        check(article)
        assert not article.is_article


@settings(max_examples=1000)
@given(
    st.lists(
        st.sampled_from(
            ["来源", "作者", "记者", "责任编辑", "文", "图", "文/图", "图/文", "发布时间", "新华社",
             "人民网", ":", "：", "︱", "/", " ", "　", "\t", "北京", "2024-05-09"]
        ),
        max_size=12,
    ).map("".join)
)  # fmt: skip
def test_has_label_says_what_the_label_pattern_finds(line: str) -> None:
    """``has_label`` skips the pattern on lines without a separator: never wrongly."""
    assert has_label(line) == (_LABEL_RE.search(line) is not None)
