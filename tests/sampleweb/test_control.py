from __future__ import annotations

from .conftest import Client


def test_publish_appears_everywhere(fresh: Client) -> None:
    status, entry = fresh.json(
        "/_control/publish",
        "POST",
        {
            "outlet": "nanfeng",
            "category": "科技",
            "title": "测试标题：低空经济新航线开通",
            "text": "第一段。\n第二段。",
        },
    )
    assert status == 200
    assert entry["outlet"] == "nanfeng" and entry["category"] == "科技" and entry["version"] == 1
    assert entry["body"] == ["第一段。", "第二段。"]
    html = fresh.get(entry["url"]).decode("gbk")
    assert "测试标题：低空经济新航线开通" in html and "<p>第二段。</p>" in html
    listing = fresh.get("/nanfeng/kj/index.shtml").decode("gbk")
    assert listing.index(entry["url"][len(fresh.base) :]) < listing.index("</ul>")
    first = listing.split('<li><a href="', 1)[1].split('"', 1)[0]
    assert entry["url"].endswith(first)
    assert entry["url"].encode() in fresh.get("/nanfeng/rss/kj.xml")
    assert entry["url"].encode() in fresh.get("/nanfeng/sitemap_news.xml")
    manifest = fresh.json("/_control/manifest")[1]["articles"]
    assert manifest[-1]["id"] == entry["id"]


def test_publish_syndicated_copy(fresh: Client) -> None:
    manifest = fresh.json("/_control/manifest")[1]["articles"]
    origin = next(e for e in manifest if e["source"] == e["outlet_name"])
    status, copy = fresh.json("/_control/publish", "POST", {"story": origin["story"]})
    assert status == 200
    assert copy["story"] == origin["story"] and copy["body"] == origin["body"]
    assert copy["outlet"] != origin["outlet"] and copy["source"] == origin["outlet_name"]
    status, plain = fresh.json("/_control/publish", "POST", {})
    assert status == 200 and plain["body"]


def test_edit_bumps_version(fresh: Client) -> None:
    manifest = fresh.json("/_control/manifest")[1]["articles"]
    target = manifest[3]
    status, entry = fresh.json(
        "/_control/edit",
        "POST",
        {"id": target["id"], "title": "更正后的标题", "text": "更正内容。"},
    )
    assert status == 200
    assert entry["version"] == 2 and entry["title"] == "更正后的标题"
    html = fresh.get(entry["url"]).decode(entry["encoding"])
    assert "更正后的标题" in html and "更正内容。" in html
    status, again = fresh.json("/_control/edit", "POST", {"id": target["id"], "title": "再次更正"})
    assert status == 200 and again["version"] == 3 and again["body"] == ["更正内容。"]


def test_control_errors(fresh: Client) -> None:
    status, _, body = fresh.request("/_control/publish", "POST", body=b"{not json")
    assert status == 400 and b"error" in body
    assert fresh.json("/_control/edit", "POST", {"id": "nope-1"})[0] == 404
    assert fresh.json("/_control/edit", "POST", {})[0] == 400
    assert fresh.json("/_control/edit", "POST", [1, 2])[0] == 400
    assert fresh.json("/_control/publish", "POST", {"outlet": "nope"})[0] == 404
    assert fresh.json("/_control/publish", "POST", {"category": "娱乐圈"})[0] == 400
    assert fresh.json("/_control/publish", "POST", {"title": 5})[0] == 400
    assert fresh.json("/_control/publish", "POST", {"story": "s999999"})[0] == 404
    assert fresh.json("/_control/publish", "GET")[0] == 405
    assert fresh.json("/_control/nothing")[0] == 404
    stats = fresh.json("/_control/stats")[1]
    assert stats["control"] >= 10
    assert set(stats) >= {
        "article",
        "list",
        "feed",
        "sitemap",
        "robots",
        "image",
        "disallowed",
        "control",
        "not_found",
    }
