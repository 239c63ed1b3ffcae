"""The ``kuaizhao`` command."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kuaizhao import conf

Handler = Callable[[argparse.Namespace], int]


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kuaizhao.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def _outlets(directory: str | None) -> list[Any]:
    from kuaizhao.lib.outlets import load_outlets

    return load_outlets(Path(directory).resolve() if directory else conf.outlets_dir())


def crawl_command(
    outlets_dir: Path, *, forever: bool = False, interval: int | None = None
) -> list[str]:
    """The crawler child's command line (state kept in $KUAIZHAO_HOME, or Redis when set)."""
    command = [
        sys.executable, "-m", "kuaizhao.crawler",
        "--outlets", str(outlets_dir),
        "--warc-dir", str(conf.warc_dir()),
        "--state-dir", str(conf.home()),
        "--user-agent", conf.get("KUAIZHAO_USER_AGENT"),
        "--max-response-bytes", str(conf.get_int("KUAIZHAO_MAX_RESPONSE_BYTES")),
        "--timeout", str(conf.get_int("KUAIZHAO_DOWNLOAD_TIMEOUT")),
        "--log-file", str(conf.log_dir() / "crawl.log"),
    ]  # fmt: skip
    if forever:
        command.append("--forever")
    if interval is not None:
        command += ["--list-interval-min", str(interval)]
    return command


def crawl_round(outlets_dir: Path) -> int:
    """One crawl in a child process (the crawler never shares a process with the site)."""
    return subprocess.call(crawl_command(outlets_dir), stdout=subprocess.DEVNULL)


def _ingest_quietly(outlets: list[Any]) -> str:
    from kuaizhao.archive.ingest import ingest
    from kuaizhao.subscriptions.delivery import deliver

    stats = ingest(conf.warc_dir(), outlets)
    sent = deliver()  # 我的订阅: digests and webhooks that the new matches made due
    line = (
        f"ingest {time.strftime('%H:%M:%S')}: {stats.files} files, {stats.captures} captures, "
        f"{stats.created} new articles, {stats.updated} changed, {sent.emails} digests mailed"
    )
    if stats.errors:
        line += f", {len(stats.errors)} errors (first: {stats.errors[0]})"
    return line


def watch_crawl(command: list[str], outlets: list[Any], ingest_every: float) -> int:
    """Run the crawler child, show its progress live, ingest closed WARC files as they come."""
    from rich.console import Console
    from rich.live import Live

    from kuaizhao.crawler.progress import render, stats_path

    console = Console(stderr=True)
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    stats_file = stats_path(conf.home(), child.pid)
    ingested = ""
    last_ingest = time.monotonic()

    def snapshot() -> Any:
        try:
            import json

            return render(json.loads(stats_file.read_text(encoding="utf-8")), ingested)
        except (OSError, ValueError):
            return render(None, ingested)

    try:
        with Live(snapshot(), console=console, refresh_per_second=2) as live:
            while child.poll() is None:
                time.sleep(0.5)
                if time.monotonic() - last_ingest >= ingest_every:
                    ingested = _ingest_quietly(outlets)
                    last_ingest = time.monotonic()
                live.update(snapshot())
            ingested = _ingest_quietly(outlets)
            live.update(snapshot())
    except KeyboardInterrupt:
        child.send_signal(signal.SIGINT)  # Scrapy closes its WARC file and state cleanly
        child.wait()
        console.print(_ingest_quietly(outlets))
    finally:
        if child.poll() is None:  # the parent failed (e.g. ingest): do not orphan the crawler
            child.send_signal(signal.SIGINT)
            child.wait()
    return child.returncode or 0


def ingest_all(outlets: list[Any], fresh: bool = False) -> int:
    """Ingest new WARC files (``fresh``: every WARC file into an emptied catalogue)."""
    from rich.console import Console

    from kuaizhao.archive.ingest import ingest, rebuild

    console = Console(stderr=True)
    with console.status("抽取并索引新的快照…"):
        stats = (rebuild if fresh else ingest)(conf.warc_dir(), outlets)
    console.print(
        f"ingest: {stats.files} WARC files, {stats.captures} captures; articles "
        f"{stats.created} new, {stats.updated} changed, {stats.unchanged} unchanged, "
        f"{stats.skipped} not articles"
        + (f", {stats.completed} completed by a later page" if stats.completed else ""),
        soft_wrap=True,
    )
    for error in stats.errors[:20]:
        console.print(f"[red]error:[/red] {error}")
    return 0


def cmd_crawl(args: argparse.Namespace) -> int:
    outlets = _outlets(args.outlets)
    outlets_dir = Path(args.outlets).resolve() if args.outlets else conf.outlets_dir()
    _django()
    forever = not args.once
    command = crawl_command(outlets_dir, forever=forever, interval=args.interval)
    # --once too: ingest works on closed files, so they close as the crawl goes
    command += ["--warc-max-age", str(conf.get_int("KUAIZHAO_WARC_MAX_AGE"))]
    code = watch_crawl(command, outlets, float(conf.get_int("KUAIZHAO_INGEST_INTERVAL")))
    if code != 0:
        print(f"kuaizhao: the crawler exited with status {code}", file=sys.stderr)
    return code


def cmd_outlets(args: argparse.Namespace) -> int:
    """``kuaizhao outlets check``: validate every outlet config, all errors at once."""
    from kuaizhao.lib.outlets import check_outlets

    directory = Path(args.outlets).resolve() if args.outlets else conf.outlets_dir()
    outlets, errors, warnings = check_outlets(directory)
    for line in errors:
        print(f"error: {line}", file=sys.stderr)
    if args.strict or args.verbose:
        for line in warnings:
            print(f"warning: {line}", file=sys.stderr)
    unverified = sum(1 for o in outlets if not o.verified)
    print(
        f"{len(outlets)} outlets ok in {directory} ({unverified} not verified), "
        f"{len(errors)} errors, {len(warnings)} warnings"
    )
    return 1 if errors or (args.strict and warnings) else 0


def cmd_ingest(args: argparse.Namespace) -> int:
    outlets = _outlets(args.outlets)
    _django()
    return ingest_all(outlets)


def cmd_reindex(args: argparse.Namespace) -> int:
    outlets = _outlets(args.outlets)
    _django()
    from kuaizhao.archive import signals

    with signals.quiet():  # rebuilt articles are news to nobody: no matches, no mail
        return ingest_all(outlets, fresh=True)


def cmd_serve(args: argparse.Namespace) -> int:
    _django()
    from kuaizhao.archive.server import serve

    mode = " (production)" if args.prod else ""
    print(f"kuaizhao serving on http://{args.host}:{args.port}/{mode}", flush=True)
    serve(args.host, args.port, args.workers, prod=args.prod)
    return 0


def cmd_sampleweb(args: argparse.Namespace) -> int:
    from kuaizhao.sampleweb.cli import main as sampleweb_main

    return sampleweb_main(args.rest)


def cmd_extract(args: argparse.Namespace) -> int:
    from kuaizhao.extract.cli import main as extract_main

    return extract_main(args.rest)


def archive_command(name: str) -> Handler:
    """A top-level alias of one of the archive's management commands (export, verify, cdxj)."""

    def handler(args: argparse.Namespace) -> int:
        _django()
        from django.core.management import execute_from_command_line

        execute_from_command_line([f"kuaizhao {name}", name, *args.rest])
        return 0

    return handler


ARCHIVE_COMMANDS = {
    "export": "copy the archive out: --warc DIR (records byte for byte) or --jsonl FILE",
    "verify": "re-read every WARC record, check its digests and the catalogue's pointers",
    "cdxj": "write the CDXJ index of every capture",
    "takedown": "removal rules: apply --verb V --prefix URL --reason WHY, list, revoke ID, purge N",
    "users": "我的订阅 accounts: `kuaizhao users create EMAIL --token` prints an API token",
    "deliver": "send the 我的订阅 email digests and webhook deliveries that are due",
}


def cmd_config(args: argparse.Namespace) -> int:
    for name, value in conf.dump():
        print(f"{name}={value}")
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kuaizhao.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kuaizhao manage", *args.rest])
    return 0


def _start_sampleweb(port: int, articles: int) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "kuaizhao.sampleweb", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--articles", str(articles)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    if not first:
        raise SystemExit(f"kuaizhao: the sample web did not start (is port {port} free?)")
    print(first.strip(), flush=True)
    return process


def cmd_demo(args: argparse.Namespace) -> int:
    """Sample web + crawl + site: everything a newcomer needs to see the archive work."""
    sample = _start_sampleweb(args.sample_port, args.articles)
    try:
        outlets_dir = conf.home() / "outlets-sample"
        base = f"http://127.0.0.1:{args.sample_port}/"
        subprocess.check_call(
            [sys.executable, "-m", "kuaizhao.sampleweb", "--port", str(args.sample_port),
             "--write-outlets", str(outlets_dir)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        print(f"crawling the sample web at {base} …", flush=True)
        _django()
        crawl_round(outlets_dir)
        ingest_all(_outlets(str(outlets_dir)))
        from kuaizhao.archive.server import serve

        print(f"kuaizhao demo: open http://{args.host}:{args.port}/  (Ctrl-C stops)", flush=True)
        serve(args.host, args.port, 2)
    except KeyboardInterrupt:
        pass
    finally:
        sample.send_signal(signal.SIGTERM)
        sample.wait(timeout=10)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kuaizhao", description="资讯信息快照 archive")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, handler: Handler, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(handler=handler)
        return p

    p = add("crawl", cmd_crawl, "crawl the configured outlets into WARC files, then ingest")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="stop when the frontier is empty")
    mode.add_argument(
        "--forever", action="store_true", help="keep crawling on schedule (the default)"
    )
    p.add_argument("--outlets", help="outlet config directory (default $KUAIZHAO_OUTLETS)")
    p.add_argument(
        "--interval",
        type=int,
        default=None,
        help="shortest re-visit interval of a source, s (default $KUAIZHAO_LIST_INTERVAL_MIN)",
    )
    p = add("ingest", cmd_ingest, "catalogue and index WARC files not yet ingested")
    p.add_argument("--outlets", help="outlet config directory (default $KUAIZHAO_OUTLETS)")
    p = add("reindex", cmd_reindex, "rebuild the catalogue and search index from the WARCs")
    p.add_argument("--outlets", help="outlet config directory (default $KUAIZHAO_OUTLETS)")
    p = add("serve", cmd_serve, "serve the site")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default 2, or by cores with --prod)",
    )
    p.add_argument(
        "--prod",
        action="store_true",
        help="production settings: 2 workers per core + 1, app preloaded, workers recycled",
    )
    p = add("demo", cmd_demo, "start the sample web, crawl it and serve the site")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--sample-port", type=int, default=8001)
    p.add_argument("--articles", type=int, default=360)
    p = add("sampleweb", cmd_sampleweb, "run the local sample web of news outlets")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p = add("extract", cmd_extract, "extract articles from saved pages: FILE... [--url U] --json")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    for name, help in ARCHIVE_COMMANDS.items():
        p = add(name, archive_command(name), help)
        p.add_argument("rest", nargs=argparse.REMAINDER)
    p = add("outlets", cmd_outlets, "work with outlet configs: `kuaizhao outlets check`")
    p.add_argument("action", choices=["check"], help="check: validate every config")
    p.add_argument("--outlets", help="outlet config directory (default $KUAIZHAO_OUTLETS)")
    p.add_argument("-v", "--verbose", action="store_true", help="also print warnings")
    p.add_argument("--strict", action="store_true", help="warnings count as errors")
    add("config", cmd_config, "print every setting (secrets masked)")
    p = add("manage", cmd_manage, "run a Django management command")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


PASSTHROUGH: dict[str, Handler] = {
    "sampleweb": cmd_sampleweb,
    "extract": cmd_extract,
    "manage": cmd_manage,
    **{name: archive_command(name) for name in ARCHIVE_COMMANDS},
}
"""Commands whose own parser reads the rest of the command line."""


def main(argv: Sequence[str] | None = None) -> int:
    from kuaizhao.lib.outlets import OutletConfigError

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in PASSTHROUGH:
            return PASSTHROUGH[argv[0]](argparse.Namespace(rest=argv[1:]))
        args = build_parser().parse_args(argv)
        return int(args.handler(args))
    except (conf.ConfigError, OutletConfigError) as exc:
        print(f"kuaizhao: {exc}", file=sys.stderr)
        return 2
