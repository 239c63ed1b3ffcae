"""pywb in a virtual environment of its own (it pins old gevent/greenlet), created once
under ``.venv-pywb/`` at the top of the repository and reused afterwards."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-pywb"
REQUIREMENTS = ["pywb==2.8.0", "setuptools>=70,<81"]
"""pywb 2.8 still loads entry points through pkg_resources, which setuptools 81 drops and
whose old releases cannot find today's zope.interface distribution."""
READY = VENV / ".ready"


def pywb_bin() -> Path:
    """The ``bin`` directory of the pywb environment, installing it the first time."""
    bin_dir = VENV / "bin"
    if READY.exists() and READY.read_text() == " ".join(REQUIREMENTS):
        return bin_dir
    base = Path(getattr(sys, "_base_executable", sys.executable))
    steps = [
        [str(base), "-m", "venv", "--clear", str(VENV)],
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", *REQUIREMENTS],
    ]
    for step in steps:
        result = subprocess.run(step, capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            pytest.fail(f"cannot install pywb into {VENV}: {result.stderr[-2000:]}")
    READY.write_text(" ".join(REQUIREMENTS))
    return bin_dir
