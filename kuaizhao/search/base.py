"""The search contract every backend implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from kuaizhao.search.query import Query

Order = Literal["relevance", "time"]


@dataclass(frozen=True)
class Hit:
    article_id: int
    title: str
    snippet: str
    published_at: datetime | None
    score: float
    copies: int = 0
    """Other matching articles of the same story, folded into this hit."""


@dataclass(frozen=True)
class Page:
    total: int
    """Matching stories (copies of one story count once)."""
    hits: list[Hit]
    page: int
    per_page: int
    terms: tuple[str, ...] = field(default=())
    exact: bool = True
    """False when ``total`` is an estimate: more articles match than were ranked (see
    ``kuaizhao.search.engine.CANDIDATES``), and the count is extrapolated from the newest."""

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


class SearchBackend(Protocol):
    def search(
        self,
        query: Query,
        *,
        category: str | None = None,
        exclude_ids: tuple[int, ...] = (),
        page: int = 1,
        per_page: int = 20,
        order: Order = "relevance",
    ) -> Page: ...
