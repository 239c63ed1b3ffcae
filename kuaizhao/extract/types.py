"""The extractor's result types."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Block:
    """One unit of the article body, in reading order."""

    kind: str  # "p" | "h" | "img" | "caption" | "table"
    text: str
    src: str | None = None  # img only: absolute URL
    alt: str | None = None  # img only


@dataclass(frozen=True)
class Image:
    src: str
    caption: str | None = None
    alt: str | None = None


@dataclass(frozen=True)
class Article:
    title: str
    publish_time: datetime | None
    source: str | None
    author: str | None
    editor: str | None
    repost_from: str | None
    blocks: tuple[Block, ...]
    images: tuple[Image, ...]
    body_text: str
    body_html: str
    summary: str
    category_hint: str | None
    next_page_url: str | None
    page_number: int
    is_article: bool
    encoding: str
    provenance: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
