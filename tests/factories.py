"""Pages and WARC files for tests, written here (never copied from real sites)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kuaizhao.warc.writer import WarcWriter

PARAGRAPHS = (
    "本报太原3月1日电（记者 田小雨）3月1日，山西中部城市群高质量发展推进会在太原举行。"
    "会议提出，五市将在交通、产业、生态等方面加强协作，共同提升区域整体竞争力。",
    "“山西中部城市群一体化发展，关键在于打破行政壁垒。”与会专家介绍，今年将新开通三条城际公交线路，"
    "并推动二十项政务服务事项跨市通办，让群众少跑腿、企业少等待。",
    "据了解，去年五市地区生产总值合计超过一万亿元，占全省比重接近一半，发展态势良好。",
)


@dataclass
class Page:
    url: str
    title: str = "山西中部城市群高质量发展推进会举行"
    published: str = "2024-03-01 08:00:00"
    source: str = "测试日报"
    editor: str = "王五"
    repost_from: str | None = None
    paragraphs: tuple[str, ...] = PARAGRAPHS
    images: list[tuple[str, str]] = field(default_factory=list)
    extra_body: str = ""

    def html(self) -> str:
        repost = f"<p class='repost'>本文转自：{self.repost_from}</p>" if self.repost_from else ""
        figures = "".join(
            f'<p align="center"><img src="{src}"></p><p align="center">{caption}</p>'
            for src, caption in self.images
        )
        body = "".join(f"<p>{p}</p>" for p in self.paragraphs)
        return (
            "<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>{self.title}_测试日报</title></head><body>"
            "<div class='nav'><a href='/'>首页</a> <a href='/gn/'>国内</a>"
            " <a href='/gj/'>国际</a></div>"
            f"<div class='main'><h1>{self.title}</h1>"
            f"<div class='info'>发布时间：{self.published}　来源：{self.source}</div>{repost}"
            f"<div class='article'>{figures}{body}{self.extra_body}"
            f"<p class='editor'>责任编辑：{self.editor}</p></div></div>"
            "<div class='footer'>版权所有 测试日报社 未经授权禁止转载</div>"
            "</body></html>"
        )


def write_warc(
    directory: Path,
    pages: list[Page],
    *,
    images: dict[str, bytes] | None = None,
    captured_at: datetime | None = None,
    outlet: str | None = "testdaily",
) -> None:
    """One closed WARC file holding ``pages`` (HTML) and ``images`` (url -> PNG bytes)."""
    when = captured_at or datetime(2024, 3, 5, 6, 0, tzinfo=UTC)
    with WarcWriter(directory) as writer:
        for page in pages:
            write_page(writer, page.url, page.html().encode(), when, outlet=outlet)
        for url, data in (images or {}).items():
            write_page(writer, url, data, when, mime="image/png", outlet=outlet)


def write_page(
    writer: WarcWriter,
    url: str,
    body: bytes,
    when: datetime,
    *,
    mime: str = "text/html; charset=utf-8",
    outlet: str | None = "testdaily",
    status: int = 200,
    headers: list[tuple[str, str]] | None = None,
) -> None:
    """One capture of ``url`` answered with ``body``."""
    writer.write_capture(
        url=url,
        method="GET",
        request_headers=[("User-Agent", "kuaizhao-test")],
        status=status,
        reason="OK" if status == 200 else "Other",
        response_headers=[
            ("Content-Type", mime),
            ("Content-Length", str(len(body))),
            *(headers or []),
        ],
        body=body,
        captured_at=when,
        outlet=outlet,
    )


TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2218bc90000000049454e44ae426082"
)
