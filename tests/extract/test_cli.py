"""``kuaizhao extract FILE... [--url URL] --json``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from kuaizhao import cli as project_cli
from kuaizhao.extract.cli import main

DATA = Path(__file__).parent / "testdata"
KEYS = {"title", "publish_time", "source", "author", "editor", "repost_from", "body", "images"}
KEYS |= {"category", "summary", "provenance"}


def run(argv: list[str]) -> tuple[int, list[dict[str, object]]]:
    out = io.StringIO()
    code = main(argv, out=out)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_object_per_file_in_order() -> None:
    files = [str(DATA / "two_sources.html"), str(DATA / "meta_line.html")]
    code, rows = run([*files, "--json"])
    assert code == 0
    assert [r["file"] for r in rows] == files
    first = rows[0]
    assert first.keys() >= KEYS
    assert first["title"] == "河湾市启用新一代公交调度系统"
    assert first["publish_time"] == "2023-05-08T10:00:00+08:00"
    assert first["source"] == "河湾日报" and first["editor"] == "周一"
    assert first["body"].count("\n") == 2  # type: ignore[union-attr]
    assert first["provenance"]["source"] == "meta-line 来源"  # type: ignore[index]


def test_url_resolves_images_and_dates() -> None:
    url = "http://photo.example.cn/2023/0520/p1.html"
    _, [row] = run([str(DATA / "captions_only.html"), "--url", url, "--json"])
    images = row["images"]
    assert isinstance(images, list) and len(images) == 3
    assert images[0]["src"] == "http://photo.example.cn/img/2023/11/niao1.jpg"
    assert images[0]["caption"].startswith("5月20日，一群白鹭")


def test_unreadable_and_non_article_files_give_errors(tmp_path: Path) -> None:
    listing = tmp_path / "list.html"
    links = "".join(f'<li><a href="/n/{i}.html">第{i}条新闻的标题文字</a></li>' for i in range(40))
    listing.write_text(f"<html><body><ul>{links}</ul></body></html>", encoding="utf-8")
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    good = str(DATA / "no_date.html")
    missing = str(tmp_path / "missing.html")
    code, rows = run([missing, str(listing), str(tmp_path), str(empty), good, "--json"])
    assert code == 1
    assert [("error" in r) for r in rows] == [True, True, True, True, False]
    assert rows[0]["error"].startswith("cannot read")  # type: ignore[union-attr]
    assert rows[4]["publish_time"] is None and rows[4]["title"] == "青禾镇图书馆重新开放"


def test_plain_output_without_json() -> None:
    out = io.StringIO()
    assert main([str(DATA / "no_date.html")], out=out) == 0
    assert "title: 青禾镇图书馆重新开放" in out.getvalue()


def test_wired_into_the_project_command(capsys: pytest.CaptureFixture[str]) -> None:
    code = project_cli.main(["extract", str(DATA / "data_table.html"), "--json"])
    assert code == 0
    row = json.loads(capsys.readouterr().out)
    assert row["title"] == "一季度全市主要经济指标" and row["category"] == "统计数据"
