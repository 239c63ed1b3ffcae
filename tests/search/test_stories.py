"""Stories: near-duplicates and the 转自/来源 chain, checked against the sample web, whose
manifest knows which articles are copies of one story."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from kuaizhao.sampleweb.corpus import Corpus
from kuaizhao.search.stories import (
    StoryDoc,
    StoryIndex,
    chain_links,
    group_stories,
    jaccard,
    pack,
    signature,
    similarity,
    unpack,
)

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def manifest_docs(articles: int, seed: int) -> tuple[list[StoryDoc], dict[int, str]]:
    entries = Corpus(articles=articles, seed=seed).manifest()["articles"]
    docs, truth = [], {}
    for n, e in enumerate(entries):
        docs.append(
            StoryDoc(
                n,
                e["outlet_name"],
                e["title"],
                "\n".join(e["body"]),
                datetime.fromisoformat(e["published_at"]),
                e["repost_from"] or e["source"] or "",
            )
        )
        truth[n] = e["story"]
    return docs, truth


def partition(labels: dict[int, object]) -> set[frozenset[int]]:
    groups: dict[object, set[int]] = defaultdict(set)
    for i, label in labels.items():
        groups[label].add(i)
    return {frozenset(g) for g in groups.values()}


@pytest.mark.parametrize("seed", [1, 2])
def test_grouping_agrees_with_the_sample_webs_stories(seed):
    docs, truth = manifest_docs(300, seed)
    stories = group_stories(docs)
    assert partition(stories) == partition(truth)
    assert any(len(g) > 2 for g in partition(truth))  # there are syndicated stories


def test_the_original_is_the_earliest_capture():
    docs, _ = manifest_docs(300, 1)
    stories = group_stories(docs)
    by_id = {d.id: d for d in docs}
    for doc in docs:
        original = by_id[stories[doc.id]]
        assert original.captured_at <= doc.captured_at


def test_same_headline_different_story_stays_apart():
    docs, truth = manifest_docs(3000, 1)
    titles: dict[str, set[str]] = defaultdict(set)
    for d in docs:
        titles[d.title].add(truth[d.id])
    assert any(len(s) > 1 for s in titles.values())  # the sample web reuses headlines
    stories = group_stories(docs)
    for d in docs:
        assert truth[stories[d.id]] == truth[d.id]


BODY = "".join(
    f"第{i}段：山西中部城市群建设提速，太原、晋中、忻州、阳泉、吕梁五市协同推进第{i}批项目。"
    for i in range(30)
)


def test_signatures_estimate_jaccard():
    edited = BODY.replace("第3段", "第三段").replace("第7段", "第七段")
    exact = jaccard(BODY, edited)
    assert abs(similarity(signature(BODY), signature(edited)) - exact) < 0.1
    assert similarity(signature(BODY), signature(BODY)) == 1.0
    assert similarity(signature(BODY), signature("完全不同的一篇文章，讲的是体育比赛。")) < 0.2


def test_the_index_finds_near_duplicates_incrementally():
    index = StoryIndex()
    assert index.add(1, BODY) == []
    assert index.add(2, "国际航线恢复运营，旅客出行更加便利。" * 20) == []
    assert index.add(3, BODY.replace("第29段", "末段")) == [1]
    assert index.add(4, BODY[: len(BODY) // 2]) == []  # half the text: Jaccard about 0.5


def test_an_edited_copy_joins_by_its_source_line():
    original = StoryDoc(1, "华夏日报网", "山西中部城市群建设提速", BODY, T0)
    edited = BODY[: int(len(BODY) * 0.75)]  # cut by a quarter: Jaccard about 0.75
    copy = StoryDoc(
        2,
        "快讯网",
        "山西中部城市群建设提速",
        edited,
        T0 + timedelta(hours=2),
        "华夏日报网-山西频道",
    )
    unrelated = StoryDoc(
        3, "江北新闻网", "山西中部城市群建设提速", "另一篇文章。" * 50, T0, "华夏日报网"
    )
    assert 0.6 < jaccard(original.body, edited) < 0.85
    stories = group_stories([copy, original, unrelated])
    assert stories == {1: 1, 2: 1, 3: 3}
    index = StoryIndex()
    for d in (original, copy, unrelated):
        index.add(d.id, d.title + "\n" + d.body)
    assert chain_links([original, copy, unrelated], index.signatures) == [(2, 1)]


def test_a_source_line_naming_the_outlet_itself_is_no_link():
    a = StoryDoc(1, "南风网", "标题", BODY[:300], T0, "南风网")
    more = "".join(f"另有第{i}项补充说明，涉及{i * 7}个单位。" for i in range(40))
    b = StoryDoc(2, "南风网", "标题", BODY[:300] + more, T0 + timedelta(days=1), "南风网")
    assert jaccard(a.body, b.body) < 0.6
    assert group_stories([a, b]) == {1: 1, 2: 2}


def test_signatures_survive_storage():
    sig = signature(BODY)
    assert unpack(pack(sig)) == sig
    index = StoryIndex()
    index.add_signature(1, unpack(pack(sig)))
    assert index.add(2, BODY) == [1]
