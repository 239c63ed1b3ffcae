from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from kuaizhao.archive.ingest import ingest
from kuaizhao.archive.models import Article
from kuaizhao.lib.outlets import Outlet
from tests.factories import TINY_PNG, Page, write_warc

BASE = "http://news.test.example"
TARGET = f"{BASE}/gn/2024/0301/c101.html"
NEIGHBOUR = f"{BASE}/gn/2024/0302/c102.html"
ELSEWHERE = f"{BASE}/gj/2024/0303/c103.html"
IMG = "http://img.test.example/2024/pic.png"
TITLE = "山西中部城市群高质量发展推进会举行"
TS = "20240305060000"


@pytest.fixture
def archive(home: Path, outlet: Outlet) -> dict[str, Article]:
    pages = [
        Page(TARGET, title=TITLE, images=[(IMG, "与会人员参观展览。测试日报 李四摄")]),
        Page(
            NEIGHBOUR,
            title="五市城际公交开通",
            published="2024-03-02 09:30:00",
            paragraphs=("山西中部城市群首批城际公交线路今天开通，高质量发展推进会确定的项目落地。",)
            * 3,
        ),
        Page(
            ELSEWHERE,
            title="国际航线恢复运营",
            published="2024-03-03 10:00:00",
            paragraphs=("多条国际航线本周恢复运营，旅客出行更加便利，航空公司增加了航班密度。",)
            * 3,
        ),
    ]
    write_warc(home / "warc", pages, images={IMG: TINY_PNG})
    ingest(home / "warc", [outlet])
    return {a.url: a for a in Article.objects.all()}


class Mailbox:
    """What a real SMTP server on 127.0.0.1 received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


@pytest.fixture
def smtp(settings: Any) -> Iterator[Mailbox]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    try:
        yield box
    finally:
        controller.stop()
