"""Per-crawler stats written to ``$KUAIZHAO_HOME/crawl-stats/<host>-<pid>.json``.

The crawler never touches the catalogue: this file is how the ``kuaizhao crawl``
progress display, the site's status page and its ``/metrics`` learn what each
crawler process is doing. Written atomically (temp file + rename) every second.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from kuaizhao.lib.outlets import Outlet

STATS_DIR = "crawl-stats"
OUTLET_KINDS = ("responses", "articles", "bytes", "errors", "unchanged", "gone")


def stats_path(home: Path, pid: int | None = None) -> Path:
    """Where crawler process ``pid`` (default: this one) writes its stats."""
    return Path(home) / STATS_DIR / f"{socket.gethostname()}-{pid or os.getpid()}.json"


def read_all(home: Path) -> list[dict[str, Any]]:
    """Every crawler's last stats (finished ones included), newest first."""
    out = []
    for path in sorted((Path(home) / STATS_DIR).glob("*.json")):
        try:
            out.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return sorted(out, key=lambda s: -float(s.get("updated", 0)))


class StatsFile:
    def __init__(self, path: Path, forever: bool) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.forever = forever
        self.started = time.time()
        self._last: tuple[float, int] | None = None

    def snapshot(
        self, stats: dict[str, Any], queue: int, outlets: list[Outlet], finished: str = ""
    ) -> dict[str, Any]:
        now = time.time()
        responses = int(stats.get("kuaizhao/responses", 0))
        rate = 0.0
        if self._last is not None and now > self._last[0]:
            rate = (responses - self._last[1]) / (now - self._last[0])
        self._last = (now, responses)
        per_outlet = {}
        for o in outlets:
            row: dict[str, Any] = {
                k: int(stats.get(f"kuaizhao/outlet/{o.slug}/{k}", 0)) for k in OUTLET_KINDS
            }
            row["last_success"] = stats.get(f"kuaizhao/outlet/{o.slug}/last_success")
            row["name"] = o.name
            per_outlet[o.slug] = row
        return {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "forever": self.forever,
            "started": self.started,
            "updated": now,
            "finished": finished,
            "pages_per_s": round(rate, 2),
            "queue": queue,
            "responses": responses,
            "articles": int(stats.get("kuaizhao/articles", 0)),
            "revisits": int(stats.get("kuaizhao/record/revisit", 0)),
            "errors": int(stats.get("kuaizhao/errors", 0))
            + int(stats.get("kuaizhao/http_errors", 0)),
            "retries": int(stats.get("kuaizhao/retries", 0)),
            "rechecks": int(stats.get("kuaizhao/rechecks", 0)),
            "per_outlet": per_outlet,
        }

    def write(self, crawler: Any, outlets: list[Outlet], finished: str = "") -> None:
        engine = getattr(crawler, "engine", None)
        queue = 0
        try:
            scheduler = engine.scheduler if engine is not None else None
            queue = len(scheduler) if scheduler is not None else 0
        except (AttributeError, TypeError):
            queue = 0
        data = self.snapshot(crawler.stats.get_stats(), queue, outlets, finished)
        temp = self.path.with_suffix(".tmp")
        temp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(temp, self.path)


def render(data: dict[str, Any] | None, ingested: str = "") -> Any:
    """A rich table of one crawler's stats (for ``kuaizhao crawl``)."""
    from rich.table import Table

    if not data:
        table = Table(title="kuaizhao crawl: starting…")
        table.add_column("")
        return table
    title = (
        f"kuaizhao crawl  {data['pages_per_s']:.1f} pages/s  queue {data['queue']}  "
        f"captures {data['responses']}  articles {data['articles']}  "
        f"revisits {data['revisits']}  errors {data['errors']}  retries {data['retries']}"
    )
    table = Table(title=title, caption=ingested or None)
    for name in ("outlet", "responses", "articles", "unchanged", "gone", "errors", "last success"):
        table.add_column(name, justify="left" if name == "outlet" else "right")
    for slug, row in sorted(data["per_outlet"].items()):
        last = row.get("last_success")
        when = time.strftime("%H:%M:%S", time.localtime(last)) if last else "—"
        table.add_row(
            f"{row.get('name', slug)} ({slug})",
            str(row["responses"]),
            str(row["articles"]),
            str(row["unchanged"]),
            str(row["gone"]),
            str(row["errors"]),
            when,
        )
    return table
