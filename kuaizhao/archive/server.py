"""Serve the site with gunicorn (production WSGI server, several worker processes)."""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication

from kuaizhao import conf

DEV_WORKERS = 2


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from kuaizhao.wsgi import application

        warm()
        return application


def warm() -> None:
    """Load now what each worker would otherwise load on its first requests (templates, the
    URL table, the word segmenter's dictionary, what folds to each character for snippets and
    scoring: about 0.35 s of CPU). With ``--prod`` this runs
    once in the parent, before the workers fork, and they share it."""
    from django.db import connections
    from django.template.loader import get_template
    from django.urls import resolve

    from kuaizhao.search.fold import preimages
    from kuaizhao.search.query import parse
    from kuaizhao.search.related import key_phrases

    for name in ("base.html", "archive/snapshot.html", "archive/home.html", "archive/category.html",
                 "archive/search.html", "archive/lookup.html", "404.html"):  # fmt: skip
        get_template(name)
    resolve("/")
    key_phrases("山西中部城市群高质量发展", "太原引领山西中部城市群高质量发展。")
    parse("城市群 高质量发展")
    preimages()
    connections.close_all()  # forked workers must not share a connection


def default_workers() -> int:
    """gunicorn's rule of thumb for synchronous workers: two per core, plus one."""
    return 2 * (os.cpu_count() or 1) + 1


def options(
    host: str, port: int, workers: int | None = None, *, prod: bool = False
) -> dict[str, Any]:
    """gunicorn's settings. ``prod``: workers by the core count, the app loaded once before the
    workers fork (less memory, and a broken deploy fails at start, not per worker), workers
    recycled now and then so no slow leak grows without bound."""
    chosen = workers or (default_workers() if prod else DEV_WORKERS)
    settings: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": chosen,
        "accesslog": str(conf.log_dir() / "access.log"),
        "errorlog": "-",
        "loglevel": "warning",
        "timeout": 60,
    }
    if prod:
        settings |= {
            "preload_app": True,
            "max_requests": 20000,
            "max_requests_jitter": 2000,
            "keepalive": 5,
            "backlog": 2048,
        }
    return settings


def serve(host: str, port: int, workers: int | None = None, *, prod: bool = False) -> None:
    """Serve until interrupted; access log under $KUAIZHAO_HOME/logs."""
    from django.db import connections

    connections.close_all()  # the workers are forked: none may inherit the parent's connection
    _Server(options(host, port, workers, prod=prod)).run()
