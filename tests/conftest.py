from __future__ import annotations

from pathlib import Path

import pytest

from kuaizhao.lib.outlets import Outlet, parse_outlet

TEST_OUTLET: dict[str, object] = {
    "slug": "testdaily",
    "name": "测试日报",
    "home": "http://news.test.example/",
    "scope": ["news.test.example"],
    "article_patterns": [r"/\d{4}/\d{4}/c\d+\.html$"],
    "categories": [
        {"pattern": "/gn/", "name": "国内"},
        {"pattern": "/gj/", "name": "国际"},
    ],
}


@pytest.fixture
def outlet() -> Outlet:
    return parse_outlet(dict(TEST_OUTLET))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh $KUAIZHAO_HOME for a test."""
    monkeypatch.setenv("KUAIZHAO_HOME", str(tmp_path))
    (tmp_path / "warc").mkdir()
    return tmp_path
