"""The server's start-up: what it loads before the workers fork."""

from __future__ import annotations

import pytest

from kuaizhao.archive.server import warm
from kuaizhao.search.fold import preimages


@pytest.mark.django_db
def test_warm_loads_what_the_first_search_needs() -> None:
    preimages.cache_clear()
    warm()
    assert preimages.cache_info().currsize == 1
