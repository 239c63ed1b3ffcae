"""Command line: ``python -m kuaizhao.sampleweb`` (also ``kuaizhao sampleweb``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from kuaizhao.sampleweb.config import write_outlets
from kuaizhao.sampleweb.faults import KINDS, make_fault
from kuaizhao.sampleweb.server import run


def build_parser(prog: str = "python -m kuaizhao.sampleweb") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Serve the local web of sample Chinese news outlets."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8001, help="port; 0 picks a free one (8001)")
    parser.add_argument("--articles", type=int, default=360, help="articles in the corpus (360)")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (1)")
    parser.add_argument(
        "--write-outlets",
        type=Path,
        metavar="DIR",
        help="write one outlet TOML per sample outlet into DIR and exit",
    )
    parser.add_argument(
        "--page-kb",
        type=int,
        default=0,
        help="grow article pages to N-2N KB, like real ones (0: as generated, ~5 KB)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="PATH=KIND",
        help=f"make PATH misbehave; KIND is one of {', '.join(sorted(KINDS))} (repeatable)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.articles < 1:
        build_parser().error("--articles must be at least 1")
    if args.write_outlets is not None:
        port = args.port or 8001
        for path in write_outlets(args.write_outlets, f"http://{args.host}:{port}/"):
            print(path)
        return 0
    faults = {}
    for spec in args.fault:
        path, _, kind = spec.partition("=")
        try:
            faults[path] = make_fault({"kind": kind})
        except ValueError as exc:
            build_parser().error(f"--fault {spec}: {exc}")
    run(args.host, args.port, args.articles, args.seed, faults, args.page_kb * 1000)
    return 0
