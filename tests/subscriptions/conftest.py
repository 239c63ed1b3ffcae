from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from kuaizhao.archive.ingest import ingest
from kuaizhao.archive.models import Article
from kuaizhao.lib.outlets import Outlet
from kuaizhao.subscriptions import matching
from tests.factories import Page, write_warc
from tests.live_site import free_port

BASE = "http://news.test.example"


@dataclass
class Mailbox:
    """What a real SMTP server on 127.0.0.1 received."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]

    @staticmethod
    def text(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())


@pytest.fixture
def mailbox(settings: Any) -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture(autouse=True)
def fresh_index(settings: Any) -> Iterator[None]:
    """Each test has its own database, so no process-wide index may outlive it."""
    settings.KUAIZHAO_SITE_URL = "http://testserver"
    settings.KUAIZHAO_WEBHOOK_PRIVATE = True
    matching.reset()
    yield
    matching.reset()


@pytest.fixture
def publish(home: Path, outlet: Outlet, django_capture_on_commit_callbacks: Any) -> Any:
    """Write pages into a WARC file and ingest it, running the on-commit hooks."""

    def run(pages: list[Page], when: datetime | None = None) -> list[Article]:
        write_warc(home / "warc", pages, captured_at=when or datetime(2024, 3, 5, 6, tzinfo=UTC))
        with django_capture_on_commit_callbacks(execute=True):
            ingest(home / "warc", [outlet])
        urls = [p.url for p in pages]
        return sorted(Article.objects.filter(url__in=urls), key=lambda a: urls.index(a.url))

    return run


def page(n: int, title: str, text: str, section: str = "gn", **kwargs: Any) -> Page:
    return Page(
        f"{BASE}/{section}/2024/0301/c{n}.html",
        title=title,
        paragraphs=(text * 3,) * 3,
        **kwargs,
    )
