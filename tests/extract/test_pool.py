"""Extraction in the worker process gives what extraction in process gives."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from kuaizhao.extract import pool
from kuaizhao.warc import WarcError, iter_captures
from tests.factories import Page, write_warc

URL = "http://news.test.example/gn/2024/0301/c{}.html"


def captures(directory: Path) -> list[tuple[str, int, str, datetime]]:
    write_warc(
        directory, [Page(URL.format(n), title=f"第{n}篇报道的标题写在这里") for n in range(5)]
    )
    path = next(directory.iterdir())
    return [(path.name, c.offset, c.url, c.captured_at) for c in iter_captures(path)]


def extracted_here(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Extract every capture in this process (no worker), recording each one's offset."""
    calls: list[int] = []
    real = pool.extract_capture

    def counted(path: str, offset: int, url: str, at: datetime) -> pool.Article:
        calls.append(offset)
        return real(path, offset, url, at)

    monkeypatch.setattr(pool, "_running", lambda: None)
    monkeypatch.setattr(pool, "extract_capture", counted)
    return calls


def test_the_worker_extracts_what_the_process_would(tmp_path: Path) -> None:
    todo = captures(tmp_path)
    prefetcher = pool.Prefetcher(tmp_path)
    prefetcher.submit(todo)
    got = [prefetcher.get(*c) for c in todo]
    local = [pool.extract_capture(str(tmp_path / name), *rest) for name, *rest in todo]
    assert got == local
    assert [a.title for a in got] == [f"第{n}篇报道的标题写在这里" for n in range(5)]


def test_a_read_error_in_the_worker_is_raised_to_the_caller(tmp_path: Path) -> None:
    name, offset, url, at = captures(tmp_path)[0]
    prefetcher = pool.Prefetcher(tmp_path)
    prefetcher.submit([(name, offset + 1, url, at)])
    with pytest.raises(WarcError) as raised:
        prefetcher.get(name, offset + 1, url, at)
    with pytest.raises(WarcError) as local:
        pool.extract_capture(str(tmp_path / name), offset + 1, url, at)
    assert str(raised.value) == str(local.value)


def test_a_dead_worker_leaves_extraction_to_the_process(tmp_path: Path) -> None:
    todo = captures(tmp_path)
    prefetcher = pool.Prefetcher(tmp_path)
    prefetcher.submit(todo[:1])
    prefetcher.get(*todo[0])  # the worker is running
    worker = pool._running()
    assert worker is not None
    worker.process.kill()
    worker.process.wait()
    prefetcher.submit(todo[1:])  # a new worker, or none: either way every page comes back
    assert [prefetcher.get(*c).title for c in todo[1:]] == [
        f"第{n}篇报道的标题写在这里" for n in range(1, 5)
    ]


def test_a_capture_asked_for_twice_in_a_batch_is_extracted_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    todo = captures(tmp_path)
    calls = extracted_here(monkeypatch)
    prefetcher = pool.Prefetcher(tmp_path)
    first = prefetcher.get(*todo[1])
    assert prefetcher.get(*todo[1]) is first
    assert calls == [todo[1][1]]
    prefetcher.clear()  # a new batch extracts again
    assert prefetcher.get(*todo[1]) == first
    assert calls == [todo[1][1]] * 2


def test_what_the_next_batch_needs_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``clear(keep)``: a later page handed over to its first page, at the end of one batch,
    is not extracted again as a capture of the next."""
    todo = captures(tmp_path)
    calls = extracted_here(monkeypatch)
    prefetcher = pool.Prefetcher(tmp_path)
    kept, dropped = prefetcher.get(*todo[1]), prefetcher.get(*todo[2])
    prefetcher.clear(keep=[todo[1][:2]])
    assert prefetcher.get(*todo[1]) is kept
    assert prefetcher.get(*todo[2]) == dropped
    assert calls == [todo[1][1], todo[2][1], todo[2][1]]
