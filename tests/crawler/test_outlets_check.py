"""``kuaizhao outlets check`` and the shipped outlet configs."""

from __future__ import annotations

from pathlib import Path

import pytest

from kuaizhao.cli import main
from kuaizhao.lib.outlets import check_outlets, load_outlets

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_real_outlets_load_and_are_marked_unverified() -> None:
    outlets = load_outlets(ROOT / "outlets" / "real")
    names = {o.name for o in outlets}
    assert len(outlets) >= 10
    assert {"人民网", "新华网", "中国新闻网", "央视网", "光明网", "澎湃新闻"} <= names
    assert {"河北新闻网", "鲁网", "大皖新闻", "中国日报网"} <= names
    assert not any(o.verified or o.allow_private for o in outlets)
    assert all(o.article_patterns and (o.start_urls or o.feeds or o.sitemaps) for o in outlets)


@pytest.mark.parametrize(
    ("url", "slug"),
    [
        ("http://politics.people.com.cn/n1/2023/0509/c1001-32682345.html", "people"),
        ("https://www.news.cn/politics/2023-05/09/c_1129600000.htm", "xinhua"),
        ("https://www.chinanews.com.cn/gn/2023/05-09/10003456.shtml", "chinanews"),
        ("https://news.cctv.com/2023/05/09/ARTIabcDEF1234567890.shtml", "cctv"),
        ("https://www.thepaper.cn/newsDetail_forward_23012345", "thepaper"),
    ],
)
def test_real_outlets_recognise_their_article_urls(url: str, slug: str) -> None:
    outlets = {o.slug: o for o in load_outlets(ROOT / "outlets" / "real")}
    assert outlets[slug].in_scope(url) and outlets[slug].is_article_url(url)


def test_check_reports_every_bad_file_with_its_key(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('slug = "a"\nname = "A"\nhome = "http://a.example/"\n')
    (tmp_path / "b.toml").write_text('slug = "B!"\n')
    (tmp_path / "c.toml").write_text("slug = [broken")
    _, errors, _ = check_outlets(tmp_path)
    assert len(errors) == 3
    assert any("a.toml" in e and "'scope'" in e for e in errors)
    assert any("b.toml" in e and "'slug'" in e for e in errors)
    assert any("c.toml" in e and "not valid TOML" in e for e in errors)


def test_outlets_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["outlets", "check", "--outlets", str(ROOT / "outlets" / "sample")]) == 0
    assert "6 outlets ok" in capsys.readouterr().out
    (tmp_path / "x.toml").write_text('slug = "x"\n')
    assert main(["outlets", "check", "--outlets", str(tmp_path)]) == 1
    assert "x.toml" in capsys.readouterr().err
    real = str(ROOT / "outlets" / "real")
    assert main(["outlets", "check", "--strict", "--outlets", real]) == 1  # unverified
