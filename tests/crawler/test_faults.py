"""Misbehaving responses (sample web faults) are dropped with a logged reason; the crawl goes on."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from kuaizhao.sampleweb.config import write_outlets
from kuaizhao.sampleweb.server import SampleWeb
from tests.crawler.test_crawl import run_crawler
from tests.crawler.test_resume import captures, control, manifest

pytestmark = pytest.mark.e2e

MAX_BYTES = 200_000

FAULTS: dict[str, tuple[dict[str, object], str]] = {
    # name: (fault, what the log says about it)
    "oversize": ({"pad": 3 * MAX_BYTES}, "larger than download max size"),
    "endless redirect": ({"kind": "redirect_loop"}, "max redirections reached"),
    "slow drip": ({"drip": 0.5, "drip_bytes": 8}, "took longer than 2.0 seconds"),
    "malformed": ({"kind": "malformed"}, "non-integer status code"),
    "gzip bomb": ({"bomb": 50_000_000}, "exceeded DOWNLOAD_MAXSIZE"),
    "unavailable": ({"kind": "unavailable"}, "HTTP 503"),
}


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_faulty_responses_are_dropped_with_a_reason_and_the_rest_is_archived(
    tmp_path: Path,
) -> None:
    web = SampleWeb(articles=30, seed=4).start()
    try:
        articles = manifest(web)
        faulty = dict(zip(FAULTS, articles, strict=False))
        for name, article in faulty.items():
            control(web, "fault", {"path": path_of(article["url"]), **FAULTS[name][0]})
        write_outlets(tmp_path / "outlets", web.url)
        log = tmp_path / "crawl.log"
        stats = run_crawler(
            tmp_path / "outlets", tmp_path / "warc", "--max-response-bytes", str(MAX_BYTES),
            "--timeout", "2", "--log-file", str(log),
        )  # fmt: skip
    finally:
        web.stop()
    text = log.read_text(encoding="utf-8")
    lines = text.splitlines()
    for name, article in faulty.items():
        reason = FAULTS[name][1]
        path = path_of(article["url"])
        assert any(path in line and reason in line for line in lines), (name, reason)
    assert stats["finish_reason"] == "finished"
    assert "gave up on" in text  # retried with backoff first
    bad = {p for a in faulty.values() for p in a["pages"]}
    wanted = {p for a in articles for p in a["pages"] if p not in bad}
    got = {c.url for c in captures(tmp_path / "warc") if c.status == 200}
    assert wanted - got == set()


def test_a_fault_is_set_and_cleared_through_the_control_api() -> None:
    web = SampleWeb(articles=6, seed=1).start()
    try:
        url = manifest(web)[0]["url"]
        control(web, "fault", {"path": path_of(url), "kind": "unavailable"})
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(url, timeout=10)
        caught.value.close()
        assert caught.value.code == 503 and caught.value.headers["Retry-After"] == "1"
        control(web, "fault", {"path": path_of(url), "clear": True})
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
        request = urllib.request.Request(
            web.url + "_control/fault",
            data=json.dumps({"path": "/x", "kind": "nonsense"}).encode(),
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as bad:
            urllib.request.urlopen(request, timeout=10)
        bad.value.close()
        assert bad.value.code == 400
    finally:
        web.stop()
