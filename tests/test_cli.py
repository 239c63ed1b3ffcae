from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.factories import Page, write_warc


def kuaizhao(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUAIZHAO_HOME": str(home)}
    command = [sys.executable, "-m", "kuaizhao", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def test_verify_checks_every_record(tmp_path: Path):
    (tmp_path / "warc").mkdir()
    write_warc(tmp_path / "warc", [Page("http://news.test.example/gn/2024/0301/c1.html")])
    result = kuaizhao(tmp_path, "verify", "--no-catalogue")
    assert result.returncode == 0, result.stderr
    assert "every digest matches" in result.stdout


def test_verify_fails_on_a_damaged_file(tmp_path: Path):
    (tmp_path / "warc").mkdir()
    write_warc(tmp_path / "warc", [Page("http://news.test.example/gn/2024/0301/c1.html")])
    path = next((tmp_path / "warc").iterdir())
    path.write_bytes(path.read_bytes()[:-30])
    result = kuaizhao(tmp_path, "verify", "--no-catalogue")
    assert result.returncode != 0


def test_a_bad_outlet_config_is_named_without_a_traceback(tmp_path: Path):
    (tmp_path / "bad.toml").write_text('slug = "Bad Slug"\n', encoding="utf-8")
    result = kuaizhao(tmp_path, "ingest", "--outlets", str(tmp_path))
    assert result.returncode == 2
    assert "bad.toml" in result.stderr and "Traceback" not in result.stderr
