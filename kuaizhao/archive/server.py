"""Serve the site with gunicorn (production WSGI server, several worker processes)."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from kuaizhao import conf


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from kuaizhao.wsgi import application

        return application


def serve(host: str, port: int, workers: int) -> None:
    """Serve until interrupted; access log under $KUAIZHAO_HOME/logs."""
    _Server(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "accesslog": str(conf.log_dir() / "access.log"),
            "errorlog": "-",
            "loglevel": "warning",
            "timeout": 60,
        }
    ).run()
