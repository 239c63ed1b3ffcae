"""Extraction of archived pages in a worker process, alongside the catalogue writes.

Ingest spends about half its time extracting pages and half writing the catalogue, in one
process. The crawler of ``kuaizhao crawl`` runs in another, and finishes first: ingest then
holds one core while the other idles. A :class:`Prefetcher` extracts the article pages of a
batch in a worker process while ingest stores the ones already extracted, so both cores
work to the end. Extraction is a pure function of the record's bytes, URL and capture
time: the results are the same as in-process.

The worker is ``python -m kuaizhao.extract.pool``, a process of its own (a fork of one that
holds database connections and threads is not safe), reading pickled requests on its
standard input and answering on its standard output. It imports no Django.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Iterable
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from kuaizhao.extract import Article, extract
from kuaizhao.warc.reader import read_capture

Key = tuple[str, int]
"""(WARC file name, record offset): one capture."""


def extract_capture(path: str, offset: int, url: str, captured_at: datetime) -> Article:
    """The extraction of the capture at ``offset`` of the WARC file ``path``.

    Raises what reading the record raises (``WarcError``, ``OSError``).
    """
    record = read_capture(Path(path), offset)
    headers = {name.lower(): value for name, value in record.headers}
    return extract(record.payload, url, headers, captured_at=captured_at)


def serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    """The worker: ``(key, arguments)`` in, ``(key, ok, article or exception)`` out, until
    its input ends."""
    while True:
        try:
            key, arguments = pickle.load(requests)
        except EOFError:
            return
        try:
            reply: tuple[Any, ...] = (key, True, extract_capture(*arguments))
        except Exception as exc:  # handed back to the caller, which raises it
            reply = (key, False, exc)
        pickle.dump(reply, replies, protocol=pickle.HIGHEST_PROTOCOL)
        replies.flush()


class Worker:
    """``python -m kuaizhao.extract.pool``, and the futures of what was sent to it."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kuaizhao.extract.pool"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        self.futures: dict[Key, Future[Article]] = {}
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, name="extract-replies", daemon=True)
        self.reader.start()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None and self.reader.is_alive()

    def submit(self, key: Key, arguments: tuple[Any, ...]) -> Future[Article]:
        future: Future[Article] = Future()
        with self.lock:
            self.futures[key] = future
        assert self.process.stdin is not None
        pickle.dump((key, arguments), self.process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        self.process.stdin.flush()
        return future

    def _read(self) -> None:
        assert self.process.stdout is not None
        try:
            while True:
                key, ok, value = pickle.load(self.process.stdout)
                with self.lock:
                    future = self.futures.pop(key, None)
                if future is None:
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
        except Exception:  # the worker is gone: whoever waits extracts in process
            with self.lock:
                waiting, self.futures = list(self.futures.values()), {}
            for future in waiting:
                future.set_exception(WorkerGone())

    def close(self) -> None:
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.reader.join(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


class WorkerGone(Exception):
    """The worker process ended before it answered."""


_worker: list[Worker] = []
_registered: list[bool] = []


def _shutdown() -> None:
    while _worker:
        _worker.pop().close()


def _running() -> Worker | None:
    """The worker process, started on first use (None on a single core: no gain there)."""
    if _worker and not _worker[0].alive:
        _shutdown()
    if not _worker:
        if (os.cpu_count() or 1) < 2:
            return None
        try:
            _worker.append(Worker())
        except OSError:
            return None
        if not _registered:
            _registered.append(True)
            atexit.register(_shutdown)
    return _worker[0]


class Prefetcher:
    """Extractions of the captures a batch will ask for, running ahead in the worker.

    :meth:`get` hands one over; a capture never submitted, or any failure of the worker
    itself, is extracted in this process instead, so results never depend on the worker.
    What was handed over is kept until :meth:`clear`: a continuation page is asked for
    twice in a batch, once merged into its first page and once as a capture of its own.
    """

    def __init__(self, warc_dir: Path) -> None:
        self.warc_dir = warc_dir
        self._pending: dict[Key, Future[Article]] = {}
        self._done: dict[Key, Article] = {}

    def submit(self, captures: Iterable[tuple[str, int, str, datetime]]) -> None:
        """Start extracting ``(warc file, offset, url, captured_at)`` captures, in order."""
        worker = _running()
        if worker is None:
            return
        try:
            for name, offset, url, at in captures:
                key = (name, offset)
                if key not in self._pending and key not in self._done:
                    arguments = (str(self.warc_dir / name), offset, url, at)
                    self._pending[key] = worker.submit(key, arguments)
        except OSError:  # a broken pipe: the worker is gone
            _shutdown()

    def get(self, name: str, offset: int, url: str, captured_at: datetime) -> Article:
        """The extraction of one capture (read errors raise as in :func:`extract_capture`)."""
        key = (name, offset)
        if (done := self._done.get(key)) is not None:
            return done
        future = self._pending.pop(key, None)
        article = None
        if future is not None:
            with contextlib.suppress(WorkerGone):  # extracted here instead
                article = future.result()
        if article is None:
            article = extract_capture(str(self.warc_dir / name), offset, url, captured_at)
        self._done[key] = article
        return article

    def clear(self, keep: Iterable[Key] = ()) -> None:
        """Forget the batch, all but the captures to ``keep`` (the next batch's, submitted
        ahead: a later page may have been handed over already, to its first page)."""
        keep = set(keep)
        self._pending = {key: job for key, job in self._pending.items() if key in keep}
        self._done = {key: article for key, article in self._done.items() if key in keep}


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches the whole process group
        serve(sys.stdin.buffer, sys.stdout.buffer)
