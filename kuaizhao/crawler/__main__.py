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
    p.add_argument(
        "--state-dir", type=Path, default=None, help="keep crawl state here (resume, re-checks)"
    )
    p.add_argument("--forever", action="store_true", help="keep re-visiting sources on schedule")
    p.add_argument("--recheck-after", type=float, default=None, help="first article re-check (s)")
    p.add_argument("--list-interval-min", type=float, default=None)
    p.add_argument("--list-interval-max", type=float, default=None)
    p.add_argument("--warc-max-age", type=float, default=None, help="close WARC files this old")
    p.add_argument("--redis-url", default=None, help="default: KUAIZHAO_REDIS_URL")
    p.add_argument("--redis-prefix", default=None, help="default: KUAIZHAO_REDIS_PREFIX")
    return p


def _number(value: float | None, name: str) -> float:
    return float(value) if value is not None else float(conf.get_int(name))


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
    from kuaizhao.crawler.state import Schedule

    schedule = Schedule(
        recheck_after=_number(args.recheck_after, "KUAIZHAO_RECHECK_AFTER"),
        list_min=_number(args.list_interval_min, "KUAIZHAO_LIST_INTERVAL_MIN"),
        list_max=_number(args.list_interval_max, "KUAIZHAO_LIST_INTERVAL_MAX"),
    )
    redis_url = args.redis_url if args.redis_url is not None else conf.get("KUAIZHAO_REDIS_URL")

    stats = crawl(
        outlets,
        args.warc_dir,
        user_agent=args.user_agent or conf.get("KUAIZHAO_USER_AGENT"),
        max_response_bytes=args.max_response_bytes or conf.get_int("KUAIZHAO_MAX_RESPONSE_BYTES"),
        timeout=args.timeout or conf.get_int("KUAIZHAO_DOWNLOAD_TIMEOUT"),
        log_file=args.log_file,
        max_pages=args.max_pages,
        state_dir=args.state_dir,
        forever=args.forever,
        schedule=schedule,
        warc_max_age=(
            _number(args.warc_max_age, "KUAIZHAO_WARC_MAX_AGE")
            if args.forever or args.warc_max_age is not None
            else 0.0
        ),
        redis_url=redis_url,
        redis_prefix=args.redis_prefix or conf.get("KUAIZHAO_REDIS_PREFIX"),
    )
    print(json.dumps(stats.as_dict(), ensure_ascii=False, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
