"""Outlet configs: one TOML file per news outlet (``outlets/**/*.toml``).

An outlet config is data, not code. Example::

    slug = "huaxia"
    name = "华夏日报网"
    home = "http://127.0.0.1:8001/huaxia/"
    scope = ["http://127.0.0.1:8001/huaxia/"]   # URL prefixes, or bare domains ("people.com.cn")
    allow_private = true                         # may fetch loopback/private addresses
    verified = true                              # false: written from public docs, not tested
    start_urls = ["http://127.0.0.1:8001/huaxia/"]
    feeds = ["http://127.0.0.1:8001/huaxia/rss/guonei.xml"]
    sitemaps = ["http://127.0.0.1:8001/huaxia/sitemap.xml"]
    article_patterns = ['/n1/\\d{4}/\\d{4}/c\\d+-\\d+\\.html$']   # regexes searched in the URL
    ignore_patterns = ['/print/']
    [[categories]]                               # first matching pattern wins
    pattern = "/guonei/"
    name = "国内"
    [politeness]
    concurrency = 2                              # parallel requests to this outlet
    delay = 0.0                                  # seconds between requests
    autothrottle = true                          # false: no slowing down as latency grows
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CATEGORIES: tuple[tuple[str, str], ...] = (
    ("guonei", "国内"),
    ("guoji", "国际"),
    ("caijing", "财经"),
    ("keji", "科技"),
    ("tiyu", "体育"),
    ("shehui", "社会"),
    ("wenhua", "文化"),
    ("junshi", "军事"),
    ("yule", "娱乐"),
    ("qita", "其他"),
)
"""The archive's categories: (slug, name). Outlets map their channels onto these."""

CATEGORY_NAMES = frozenset(name for _, name in CATEGORIES)


class OutletConfigError(ValueError):
    """An outlet config is wrong; the message names the file and the key."""


@dataclass(frozen=True)
class CategoryRule:
    pattern: re.Pattern[str]
    name: str


@dataclass(frozen=True)
class Outlet:
    slug: str
    name: str
    home: str
    scope: tuple[str, ...]
    start_urls: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    article_patterns: tuple[re.Pattern[str], ...] = ()
    ignore_patterns: tuple[re.Pattern[str], ...] = ()
    categories: tuple[CategoryRule, ...] = ()
    allow_private: bool = False
    verified: bool = False
    concurrency: int = 2
    delay: float = 1.0
    autothrottle: bool = True
    path: Path | None = field(default=None, compare=False)

    def in_scope(self, url: str) -> bool:
        """True if ``url`` belongs to this outlet (prefix or domain match)."""
        host = (urlsplit(url).hostname or "").lower()
        for entry in self.scope:
            if "://" in entry:
                if url.startswith(entry):
                    return True
            elif host == entry or host.endswith("." + entry):
                return True
        return False

    def is_article_url(self, url: str) -> bool:
        if any(p.search(url) for p in self.ignore_patterns):
            return False
        return any(p.search(url) for p in self.article_patterns)

    def is_ignored(self, url: str) -> bool:
        return any(p.search(url) for p in self.ignore_patterns)

    def category_for(self, url: str) -> str | None:
        for rule in self.categories:
            if rule.pattern.search(url):
                return rule.name
        return None


def _strings(data: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise OutletConfigError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def _patterns(data: dict[str, Any], key: str, where: str) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for raw in _strings(data, key, where):
        try:
            compiled.append(re.compile(raw))
        except re.error as exc:
            raise OutletConfigError(f"{where}: '{key}' has a bad regex {raw!r}: {exc}") from None
    return tuple(compiled)


def _required_str(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise OutletConfigError(f"{where}: '{key}' is required and must be a non-empty string")
    return value


def _categories(data: dict[str, Any], where: str) -> tuple[CategoryRule, ...]:
    raw = data.get("categories", [])
    if not isinstance(raw, list):
        raise OutletConfigError(f"{where}: 'categories' must be an array of tables")
    rules = []
    for i, item in enumerate(raw):
        at = f"{where}: categories[{i}]"
        if not isinstance(item, dict):
            raise OutletConfigError(f"{at} must be a table with 'pattern' and 'name'")
        name = _required_str(item, "name", at)
        if name not in CATEGORY_NAMES:
            known = "、".join(sorted(CATEGORY_NAMES))
            raise OutletConfigError(f"{at}: unknown category {name!r} (known: {known})")
        pattern = _patterns({"p": [_required_str(item, "pattern", at)]}, "p", at)[0]
        rules.append(CategoryRule(pattern, name))
    return tuple(rules)


def parse_outlet(data: dict[str, Any], where: str = "<outlet>", path: Path | None = None) -> Outlet:
    """Validate one outlet's parsed TOML; errors name ``where`` and the key."""
    known = {
        "slug", "name", "home", "scope", "start_urls", "feeds", "sitemaps", "article_patterns",
        "ignore_patterns", "categories", "allow_private", "verified", "politeness",
    }  # fmt: skip
    unknown = sorted(set(data) - known)
    if unknown:
        raise OutletConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    slug = _required_str(data, "slug", where)
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", slug):
        raise OutletConfigError(f"{where}: 'slug' must be lowercase letters, digits and '-'")
    politeness = data.get("politeness", {})
    if not isinstance(politeness, dict):
        raise OutletConfigError(f"{where}: 'politeness' must be a table")
    concurrency = politeness.get("concurrency", 2)
    delay = politeness.get("delay", 1.0)
    if not isinstance(concurrency, int) or not 1 <= concurrency <= 64:
        raise OutletConfigError(f"{where}: 'politeness.concurrency' must be an integer 1-64")
    if not isinstance(delay, int | float) or delay < 0:
        raise OutletConfigError(f"{where}: 'politeness.delay' must be a number >= 0")
    if not isinstance(politeness.get("autothrottle", True), bool):
        raise OutletConfigError(f"{where}: 'politeness.autothrottle' must be true or false")
    scope = _strings(data, "scope", where)
    if not scope:
        raise OutletConfigError(f"{where}: 'scope' must list at least one URL prefix or domain")
    for flag in ("allow_private", "verified"):
        if not isinstance(data.get(flag, False), bool):
            raise OutletConfigError(f"{where}: '{flag}' must be true or false")
    return Outlet(
        slug=slug,
        name=_required_str(data, "name", where),
        home=_required_str(data, "home", where),
        scope=scope,
        start_urls=_strings(data, "start_urls", where),
        feeds=_strings(data, "feeds", where),
        sitemaps=_strings(data, "sitemaps", where),
        article_patterns=_patterns(data, "article_patterns", where),
        ignore_patterns=_patterns(data, "ignore_patterns", where),
        categories=_categories(data, where),
        allow_private=bool(data.get("allow_private", False)),
        verified=bool(data.get("verified", False)),
        concurrency=concurrency,
        delay=float(delay),
        autothrottle=bool(politeness.get("autothrottle", True)),
        path=path,
    )


def load_outlet(path: Path) -> Outlet:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise OutletConfigError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise OutletConfigError(f"{path}: cannot read: {exc}") from None
    return parse_outlet(data, str(path), path)


def load_outlets(directory: Path) -> list[Outlet]:
    """Every ``*.toml`` under ``directory``, sorted by path; slugs must be unique."""
    if not directory.is_dir():
        raise OutletConfigError(f"{directory}: no such directory of outlet configs")
    outlets = [load_outlet(p) for p in sorted(directory.rglob("*.toml"))]
    seen: dict[str, Path | None] = {}
    for outlet in outlets:
        if outlet.slug in seen:
            raise OutletConfigError(
                f"{outlet.path}: slug {outlet.slug!r} is also used by {seen[outlet.slug]}"
            )
        seen[outlet.slug] = outlet.path
    return outlets


def outlet_for(url: str, outlets: Iterable[Outlet]) -> Outlet | None:
    """The outlet whose scope holds ``url``; the longest matching prefix wins."""
    best: tuple[int, Outlet] | None = None
    for outlet in outlets:
        if outlet.in_scope(url):
            weight = max((len(s) for s in outlet.scope if url.startswith(s)), default=1)
            if best is None or weight > best[0]:
                best = (weight, outlet)
    return best[1] if best else None


def check_outlets(directory: Path) -> tuple[list[Outlet], list[str], list[str]]:
    """Validate every config under ``directory``: (outlets, errors, warnings).

    Unlike :func:`load_outlets` it does not stop at the first bad file: every
    error names its file and key. Warnings point at configs that load but will
    not crawl well (nothing to start from, a seed outside the outlet's scope,
    not verified against the live site).
    """
    if not directory.is_dir():
        return [], [f"{directory}: no such directory of outlet configs"], []
    outlets: list[Outlet] = []
    errors: list[str] = []
    warnings: list[str] = []
    seen: dict[str, Path | None] = {}
    for path in sorted(directory.rglob("*.toml")):
        try:
            outlet = load_outlet(path)
        except OutletConfigError as exc:
            errors.append(str(exc))
            continue
        if outlet.slug in seen:
            errors.append(f"{path}: 'slug' {outlet.slug!r} is also used by {seen[outlet.slug]}")
            continue
        seen[outlet.slug] = path
        outlets.append(outlet)
        for key in ("home", "start_urls", "feeds", "sitemaps"):
            value = getattr(outlet, key)
            for url in (value,) if isinstance(value, str) else value:
                if urlsplit(url).scheme not in ("http", "https"):
                    errors.append(f"{path}: '{key}' has a non-http(s) URL {url!r}")
                elif key == "start_urls" and not outlet.in_scope(url):
                    warnings.append(f"{path}: 'start_urls' {url!r} is outside 'scope'")
        if not (outlet.start_urls or outlet.feeds or outlet.sitemaps):
            warnings.append(f"{path}: no start_urls, feeds or sitemaps: only 'home' is crawled")
        if not outlet.article_patterns:
            errors.append(f"{path}: 'article_patterns' is empty: no page would count as an article")
        if not outlet.verified:
            warnings.append(f"{path}: not verified against the live site (verified = false)")
    return outlets, errors, warnings
