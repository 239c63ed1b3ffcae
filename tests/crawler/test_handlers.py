"""Crawler settings that keep Scrapy's per-request overhead down, and the download handler."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kuaizhao.crawler.handlers import PERSISTENT_PER_HOST_SETTING
from kuaizhao.crawler.run import crawl_settings
from tests.crawler.test_spider import make_outlet

HANDLER = "kuaizhao.crawler.handlers.PooledHttpHandler"
DEPTH = "scrapy.spidermiddlewares.depth.DepthMiddleware"
META_COPY = "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware"
ROOT = Path(__file__).resolve().parents[2]


def test_the_pool_keeps_a_connection_for_every_slot_on_a_host(tmp_path: Path) -> None:
    outlets = [
        make_outlet(concurrency=4),
        make_outlet(slug="y", home="http://x.cn/sports/", concurrency=3),
        make_outlet(slug="z", home="http://z.cn/", concurrency=1),
    ]
    settings = crawl_settings(outlets, tmp_path, user_agent="ua")
    assert settings["DOWNLOAD_HANDLERS"] == {"http": HANDLER, "https": HANDLER}
    assert settings[PERSISTENT_PER_HOST_SETTING] == 7  # x.cn: two outlets, 4 + 3
    assert settings["CONCURRENT_REQUESTS_PER_DOMAIN"] == 2  # politeness unchanged


# The handler needs a Twisted reactor: made in a child process, as crawls are, so that this
# process installs none.
POOL_SIZE = """
import sys
from scrapy.utils.reactor import install_reactor
install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
from scrapy.utils.test import get_crawler
from kuaizhao.crawler.handlers import PERSISTENT_PER_HOST_SETTING, PooledHttpHandler
wanted = int(sys.argv[1])
crawler = get_crawler(settings_dict={"TWISTED_REACTOR_ENABLED": True,
                                     "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
                                     PERSISTENT_PER_HOST_SETTING: wanted})
print(PooledHttpHandler(crawler)._pool.maxPersistentPerHost)
"""


def pool_size(wanted: int) -> int:
    command = [sys.executable, "-c", POOL_SIZE, str(wanted)]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


def test_the_pool_keeps_as_many_idle_connections_as_wanted_but_never_fewer_than_scrapy():
    assert pool_size(7) == 7
    assert pool_size(1) == 2  # CONCURRENT_REQUESTS_PER_DOMAIN


def test_requests_are_handed_over_without_item_concurrency(tmp_path: Path) -> None:
    settings = crawl_settings([make_outlet()], tmp_path, user_agent="ua")
    assert settings["CONCURRENT_ITEMS"] == 1
    assert settings["SPIDER_MIDDLEWARES"] == {DEPTH: None, META_COPY: None}


def test_the_shared_frontier_keeps_its_middleware(tmp_path: Path) -> None:
    settings = crawl_settings(
        [make_outlet()], tmp_path, user_agent="ua", redis_url="redis://127.0.0.1:6379/9"
    )
    middlewares = settings["SPIDER_MIDDLEWARES"]
    assert middlewares["kuaizhao.crawler.frontier.LeaseReleaseMiddleware"] == 10
    assert middlewares[DEPTH] is None and middlewares[META_COPY] is None
