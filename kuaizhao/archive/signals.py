"""Signals the catalogue sends, for apps that react to what ingest records."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.dispatch import Signal

#: Sent once the transaction that wrote an article (a new one, or a new version of a known
#: one) has committed, so receivers see the row as every other connection will.
#: Arguments: ``article`` (the ``Article``), ``created`` (first time the URL became an
#: article) and ``new_version`` (a known article changed title or body).
article_saved = Signal()

_quiet = [0]


@contextmanager
def quiet() -> Iterator[None]:
    """Send nothing meanwhile: ``reindex`` rebuilds articles that are news to nobody."""
    _quiet[0] += 1
    try:
        yield
    finally:
        _quiet[0] -= 1


def announce(article: Any, *, created: bool) -> None:
    """Send ``article_saved`` when the current transaction commits (nothing is queued when
    no receiver listens, or inside ``quiet``)."""
    sender = type(article)
    if _quiet[0] or not article_saved.has_listeners(sender):
        return
    transaction.on_commit(
        lambda: article_saved.send(
            sender=sender, article=article, created=created, new_version=not created
        )
    )
