"""The dependency rule: data flows one way, and the pure core never imports a framework."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kuaizhao"

FORBIDDEN = {
    "lib": ("django", "scrapy", "twisted", "kuaizhao.archive", "kuaizhao.crawler"),
    "warc": ("django", "scrapy", "twisted", "kuaizhao.archive", "kuaizhao.crawler"),
    "extract": ("django", "scrapy", "twisted", "kuaizhao.archive", "kuaizhao.crawler"),
    "search": ("django", "scrapy", "twisted", "kuaizhao.archive", "kuaizhao.crawler"),
    "crawler": ("django", "kuaizhao.archive", "kuaizhao.extract", "kuaizhao.search"),
    "sampleweb": ("django", "scrapy", "kuaizhao.archive", "kuaizhao.crawler"),
}


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_what_it_may(layer: str):
    bad = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for name in imports(path):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[layer]):
                bad.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not bad
