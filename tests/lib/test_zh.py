from __future__ import annotations

import codecs
import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from kuaizhao.lib.zh import canonical_encoding, decode_html, normalize, segment

TEXT = "山西中部城市群高质量发展大会举行，会议明确太原将扛起省会担当。记者了解到，相关项目已开工。"


def page(charset: str) -> str:
    return f'<html><head><meta charset="{charset}"><title>新闻</title></head><body><p>{TEXT}</p>'


def test_gbk_declared_in_meta() -> None:
    text, enc = decode_html(page("gbk").encode("gbk"))
    assert enc == "gb18030" and TEXT in text


def test_gb2312_declared_but_utf8_bytes() -> None:
    text, enc = decode_html(page("gb2312").encode("utf-8"))
    assert enc == "utf-8" and TEXT in text


def test_utf8_declared_but_gbk_bytes() -> None:
    text, enc = decode_html(page("utf-8").encode("gbk"), "text/html; charset=utf-8")
    assert enc == "gb18030" and TEXT in text


def test_gb2312_declared_with_gbk_only_character() -> None:
    body = "<meta charset=gb2312><p>镕基与喆，" + TEXT + "</p>"
    text, enc = decode_html(body.encode("gbk"))
    assert "镕" in text and "喆" in text and enc == "gb18030"


def test_header_charset_used() -> None:
    body = f"<p>{TEXT}</p>".encode("gbk")
    text, _ = decode_html(body, "text/html; charset=GBK")
    assert TEXT in text


def test_bom() -> None:
    text, enc = decode_html(codecs.BOM_UTF8 + page("gbk").encode("utf-8"))
    assert enc == "utf-8" and TEXT in text and not text.startswith("\ufeff")
    text, enc = decode_html(codecs.BOM_UTF16_LE + page("utf-16").encode("utf-16-le"))
    assert enc == "utf-16-le" and TEXT in text


def test_big5() -> None:
    trad = "臺灣新聞報導，這是一個關於經濟發展與國際貿易的長篇報導。記者表示，會議將於明天舉行。"
    text, enc = decode_html(f'<meta charset="big5"><p>{trad}</p>'.encode("big5"))
    assert enc.startswith("big5") and trad in text


def test_big5_undeclared() -> None:
    trad = (
        "這是一個關於經濟發展與國際貿易的長篇報導。記者表示，會議將於明天舉行，國家與人民都很關心。"
    )
    text, _ = decode_html(f"<p>{trad}</p>".encode("big5"))
    assert trad in text


def test_empty_and_garbage() -> None:
    assert decode_html(b"") == ("", "utf-8")
    text, _ = decode_html(bytes(range(256)) * 10)
    assert isinstance(text, str)


def test_canonical_encoding() -> None:
    assert canonical_encoding("GB2312") == "gb18030"
    assert canonical_encoding("x-gbk") == "gb18030"
    assert canonical_encoding("nonsense-charset") is None


@given(st.binary(max_size=3000), st.one_of(st.none(), st.text(max_size=60)))
@settings(max_examples=200, deadline=None)
def test_decode_html_never_raises(body: bytes, content_type: str | None) -> None:
    text, enc = decode_html(body, content_type)
    assert isinstance(text, str) and enc


def test_normalize() -> None:
    assert normalize("  ＡＢＣ１２３\u3000新闻&nbsp;报道\xa0 ") == "ABC123 新闻 报道"
    assert normalize("来源：人民网，记者（张三）") == "来源：人民网，记者（张三）"
    assert normalize("第\u200b１\ufeff页\u2028\x85＃") == "第 1 页 #"


_KEEP = set("，。：；！？（）【】「」『』《》〈〉、“”‘’…—")


def _plain_normalize(text: str) -> str:
    """What ``normalize`` does, spelled out character by character."""
    text = re.sub(r"&nbsp;?|&#160;|&#xa0;", " ", text, flags=re.IGNORECASE)
    text = "".join(
        unicodedata.normalize("NFKC", c) if "\uff01" <= c <= "\uff5e" and c not in _KEEP else c
        for c in text
    )
    return re.sub(r"[\s\u200b\u200c\u200d\ufeff]+", " ", text).strip()


@settings(max_examples=2000)
@given(
    st.lists(
        st.sampled_from(
            [*" \t\n\x0b\x1c\x85\xa0\u2000\u2028\u3000\u200b\ufeffaZ0中，（）ＡｚＺ０！＃～｟",
             "&nbsp;", "&NBSP", "&#160;", "&#xA0;", "&amp;"]
        )
    ).map("".join)
)  # fmt: skip
def test_normalize_agrees_with_its_plain_definition(text: str) -> None:
    assert normalize(text) == _plain_normalize(text)


def test_segment() -> None:
    words = segment("山西中部城市群高质量发展")
    assert "".join(words) == "山西中部城市群高质量发展" and len(words) > 1
