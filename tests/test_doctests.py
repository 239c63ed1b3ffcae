"""The examples in the pure modules' docstrings are tests too."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "kuaizhao.lib.surt",
    "kuaizhao.search.query",
    "kuaizhao.search.snippets",
    "kuaizhao.search.sqlite",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str):
    result = doctest.testmod(
        importlib.import_module(name), optionflags=doctest.IGNORE_EXCEPTION_DETAIL
    )
    assert result.attempted > 0
    assert result.failed == 0
