"""The crawler's side of takedown: a downloader middleware that drops every request for a
URL an ``exclude`` or ``block`` rule covers, so a removed page is never captured again.

It reads the rules from the catalogue database itself (no Django in the crawler), again
every ``REFRESH`` seconds, so a rule applied while a crawl runs takes effect within that.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request

from kuaizhao import conf
from kuaizhao.lib.surt import BadUrl, surt
from kuaizhao.takedown.matching import RuleSet, read_rules

log = logging.getLogger(__name__)

REFRESH = 30.0


class TakedownMiddleware:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self._rules = RuleSet([])
        self._loaded_at: float | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> TakedownMiddleware:
        return cls(crawler)

    def rules(self) -> RuleSet:
        now = time.monotonic()
        if self._loaded_at is None or now - self._loaded_at >= REFRESH:
            self._loaded_at = now
            try:
                self._rules = read_rules(
                    conf.get("KUAIZHAO_DATABASE_URL").strip(), str(conf.database_path())
                )
            except Exception as exc:  # keep crawling under the rules last read
                log.warning("cannot read the takedown rules: %s", exc)
        return self._rules

    def process_request(self, request: Request) -> None:
        try:
            key = surt(request.url)
        except BadUrl:
            return
        decision = self.rules().hides(key)
        if decision is not None:
            self.crawler.stats.inc_value("kuaizhao/takedown_skipped")
            log.info("skipped %s: takedown %s (%s)", request.url, decision.reference, decision.verb)
            raise IgnoreRequest(f"takedown {decision.reference}: {request.url}")
