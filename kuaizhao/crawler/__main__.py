"""``python -m kuaizhao.crawler --outlets DIR --warc-dir DIR``: one crawl; prints JSON stats."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kuaizhao import conf
from kuaizhao.lib.outlets import OutletConfigError, load_outlets


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m kuaizhao.crawler", description=__doc__)
    p.add_argument("--outlets", required=True, type=Path, help="directory of outlet configs")
    p.add_argument("--warc-dir", required=True, type=Path, help="where WARC files are written")
    p.add_argument("--user-agent", default=None, help="default: KUAIZHAO_USER_AGENT")
    p.add_argument("--max-response-bytes", type=int, default=None)
    p.add_argument("--timeout", type=int, default=None, help="seconds per download")
    p.add_argument("--log-file", type=Path, default=None)
    p.add_argument("--max-pages", type=int, default=None, help="stop after this many responses")
    p.add_argument("--only", action="append", default=[], metavar="SLUG", help="crawl this outlet")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        outlets = load_outlets(args.outlets)
    except OutletConfigError as exc:
        print(f"kuaizhao.crawler: {exc}", file=sys.stderr)
        return 2
    if args.only:
        unknown = sorted(set(args.only) - {o.slug for o in outlets})
        if unknown:
            print(f"kuaizhao.crawler: unknown outlet(s) {', '.join(unknown)}", file=sys.stderr)
            return 2
        outlets = [o for o in outlets if o.slug in args.only]

    from kuaizhao.crawler.run import crawl

    stats = crawl(
        outlets,
        args.warc_dir,
        user_agent=args.user_agent or conf.get("KUAIZHAO_USER_AGENT"),
        max_response_bytes=args.max_response_bytes or conf.get_int("KUAIZHAO_MAX_RESPONSE_BYTES"),
        timeout=args.timeout or conf.get_int("KUAIZHAO_DOWNLOAD_TIMEOUT"),
        log_file=args.log_file,
        max_pages=args.max_pages,
    )
    print(json.dumps(stats.as_dict(), ensure_ascii=False, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
