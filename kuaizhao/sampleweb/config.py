"""Outlet configs (``kuaizhao.lib.outlets`` TOML format) for the sample outlets."""

from __future__ import annotations

import json
from pathlib import Path

from kuaizhao.sampleweb.sites import SITES, Site
from kuaizhao.sampleweb.text import CATEGORIES


def _q(text: str) -> str:
    """A TOML basic string (JSON string syntax is a subset here)."""
    return json.dumps(text, ensure_ascii=False)


def _lit(pattern: str) -> str:
    """A TOML literal string, so regex backslashes stay as they are."""
    if "'" in pattern or "\n" in pattern:
        return _q(pattern)
    return f"'{pattern}'"


def _array(items: list[str], literal: bool = False) -> str:
    quote = _lit if literal else _q
    return "[\n" + "".join(f"    {quote(i)},\n" for i in items) + "]"


def outlet_toml(site: Site, base_url: str) -> str:
    root = base_url.rstrip("/") + "/"
    home = f"{root}{site.slug}/"
    starts = [home] + [home + site.list_path(c) for c in range(len(CATEGORIES))]
    feeds = [f"{home}rss/{ch}.xml" for ch in site.channels]
    ignores = [f"/{site.slug}/{site.print_prefix}", f"/{site.slug}/{site.search_prefix}"]
    lines = [
        f"# {site.name}: sample outlet served by `python -m kuaizhao.sampleweb`.",
        f"# Pages are {site.encoding}; they declare charset={site.declared}.",
        f"slug = {_q(site.slug)}",
        f"name = {_q(site.name)}",
        f"home = {_q(home)}",
        f"scope = [{_q(home)}]",
        "allow_private = true",
        "verified = true",
        f"start_urls = {_array(starts)}",
        f"feeds = {_array(feeds)}",
        f"sitemaps = [{_q(home + 'sitemap.xml')}]",
        f"article_patterns = [{_lit(site.toml_article_pattern())}]",
        f"ignore_patterns = {_array(ignores, literal=True)}",
    ]
    for cat, name in enumerate(CATEGORIES):
        lines += ["", "[[categories]]", f"pattern = {_lit(site.category_pattern(cat))}"]
        lines.append(f"name = {_q(name)}")
    # The sample web is our own, on this machine: no need to slow down as it gets busy.
    lines += ["", "[politeness]", "concurrency = 4", "delay = 0.0", "autothrottle = false", ""]
    return "\n".join(lines)


def write_outlets(directory: Path, base_url: str) -> list[Path]:
    """Write one ``<slug>.toml`` per sample outlet into ``directory``; return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for site in SITES:
        path = directory / f"{site.slug}.toml"
        path.write_text(outlet_toml(site, base_url), encoding="utf-8")
        paths.append(path)
    return paths
