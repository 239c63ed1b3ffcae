"""Debian's Chromium for the browser tests, started the same way everywhere.

Without a ``chromium`` on PATH (or without Playwright) a test skips on a laptop and fails
under ``KUAIZHAO_REQUIRE_SERVICES=1``, like every other service the tests need.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.conftest import require_service

# No network of its own (updates, sync, QUIC probes): a test must never reach the internet.
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip


def chromium_path() -> str:
    """The Chromium executable, or skip (fail when services are required) without one."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        require_service("Chromium", "no chromium on PATH (Debian: apt-get install chromium)")
    return found


@contextmanager
def launched() -> Iterator[Any]:
    """A Playwright ``Browser`` on Debian's Chromium, closed on the way out."""
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        require_service("Playwright", f"the playwright package is not installed: {exc}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=list(FLAGS))
        try:
            yield browser
        finally:
            browser.close()
