"""The corpus: lightweight article metadata built up front, content made lazily.

Only a few integers per article are kept; titles, bodies and pages are generated on
demand from ``(seed, story)`` so a corpus of 100,000+ articles builds in about a second.
"""

from __future__ import annotations

import random
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from kuaizhao.sampleweb.sites import SITE_BY_SLUG, SITES, Site
from kuaizhao.sampleweb.text import CATEGORIES, Block, Head, Story, make_head, make_story, person

TZ = 8 * 3600
START = 1704038400  # 2024-01-01 00:00 +08:00
END = 1767196740  # 2025-12-31 23:59 +08:00
PAGE_BLOCKS = 5  # blocks per page of a multi-page article
MULTIPAGE_MIN = 9  # articles with more blocks are split on multi-page outlets


def local(ts: int) -> time.struct_time:
    return time.gmtime(ts + TZ)


def iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+08:00", local(ts))


def fmt(ts: int, pattern: str) -> str:
    return time.strftime(pattern, local(ts))


@dataclass(slots=True)
class Article:
    site: int
    cat: int
    num: int
    ts: int  # publish time, epoch seconds
    story: int
    origin: int  # site index of the original for syndicated copies, else -1
    version: int = 1
    modified: int = 0
    override: Story | None = None  # content set through the control API

    @property
    def aid(self) -> str:
        return f"{SITES[self.site].slug}-{self.num}"

    @property
    def ymd(self) -> tuple[str, str, str]:
        t = local(self.ts)
        return f"{t.tm_year:04d}", f"{t.tm_mon:02d}", f"{t.tm_mday:02d}"

    def path(self, page: int = 1) -> str:
        site = SITES[self.site]
        return f"/{site.slug}/" + site.article_path(self.cat, self.num, self.ymd, page)


@dataclass(frozen=True)
class StoryMeta:
    cat: int
    site: int
    ts: int
    explicit: Story | None = None


@dataclass
class View:
    """Everything a page shows about one article (what the manifest records)."""

    article: Article
    site: Site
    title: str
    blocks: list[tuple[str, tuple[str, str] | None]]  # (text, (path, src) for images)
    source: str
    repost_from: str | None
    author: str | None
    editor: str | None
    pages: list[list[int]] = field(default_factory=list)  # block indexes per page


class Corpus:
    def __init__(self, articles: int = 360, seed: int = 1) -> None:
        self.seed = seed
        self.origin = "http://127.0.0.1:8001"
        self.stories: list[StoryMeta] = []
        self.articles: list[Article] = []
        self.by_num: list[dict[int, Article]] = [{} for _ in SITES]
        self.by_site: list[list[Article]] = [[] for _ in SITES]
        self.by_channel: list[list[list[Article]]] = [[[] for _ in CATEGORIES] for _ in SITES]
        self.next_num = [s.num_base for s in SITES]
        self.generation = 0  # bumped on every change, so caches can tell
        self.listeners: list[Callable[[], None]] = []
        self._stories: OrderedDict[int, Story] = OrderedDict()
        self._build(articles)

    # -- building ---------------------------------------------------------------
    def _build(self, count: int) -> None:
        rng = random.Random(self.seed)
        originators = [i for i, s in enumerate(SITES) if s.originates]
        reposter = [i for i, s in enumerate(SITES) if not s.originates]
        span = END - START - 2 * 86400
        rows: list[tuple[int, int, int, int, int]] = []
        while len(rows) < count:
            sid = len(self.stories)
            ts = START + rng.randrange(span)
            if sid < len(CATEGORIES):  # seed stories: every outlet gets every category
                cat, origin = sid, originators[sid % len(originators)]
                targets = [i for i in range(len(SITES)) if i != origin]
            else:
                cat, origin = rng.randrange(len(CATEGORIES)), rng.choice(originators)
                targets = []
                if rng.random() < 0.22:
                    others = [i for i in originators if i != origin]
                    targets = rng.sample(others, rng.choice((0, 1, 1, 2, 3)))
                    if rng.random() < 0.7 or not targets:
                        targets += reposter
            self.stories.append(StoryMeta(cat, origin, ts))
            rows.append((ts, origin, cat, sid, -1))
            for t in targets:
                rows.append((ts + rng.randint(300, 6 * 3600), t, cat, sid, origin))
        del rows[count:]
        rows.sort()
        for ts, site, cat, sid, origin in rows:
            self._add(Article(site, cat, self._number(rng, site), ts, sid, origin))

    def _number(self, rng: random.Random, site: int) -> int:
        num = self.next_num[site] + rng.randint(1, 3)
        self.next_num[site] = num
        return num

    def _add(self, art: Article) -> None:
        self.articles.append(art)
        self.by_num[art.site][art.num] = art
        self.by_site[art.site].append(art)
        self.by_channel[art.site][art.cat].append(art)

    def changed(self) -> None:
        self.generation += 1
        for listener in self.listeners:
            listener()

    # -- content ----------------------------------------------------------------
    def head(self, art: Article) -> Head | Story:
        if art.override is not None:
            return art.override
        meta = self.stories[art.story]
        if meta.explicit is not None:
            return meta.explicit
        return _head(self.seed, art.story, meta.cat)

    def title(self, art: Article) -> str:
        return self.head(art).title

    def story(self, art: Article) -> Story:
        if art.override is not None:
            return art.override
        meta = self.stories[art.story]
        if meta.explicit is not None:
            return meta.explicit
        found = self._stories.get(art.story)
        if found is None:
            t = local(meta.ts)
            found = make_story(self.seed, art.story, meta.cat, t.tm_mon, t.tm_mday)
            self._stories[art.story] = found
            if len(self._stories) > 4096:
                self._stories.popitem(last=False)
        else:
            self._stories.move_to_end(art.story)
        return found

    def view(self, art: Article) -> View:
        site = SITES[art.site]
        story = self.story(art)
        meta = self.stories[art.story]
        origin = SITES[meta.site]
        generated = meta.explicit is None and art.override is None
        rng = random.Random(art.num * 31 + art.site)
        blocks: list[tuple[str, tuple[str, str] | None]] = []
        images = 0
        for i, block in enumerate(story.blocks):
            text = block.text
            if i == 0 and generated:
                text = _lead(origin, story, meta.ts) + text
            if block.image:
                images += 1
                blocks.append((text, site.image(art.cat, art.num, art.ymd, images)))
            else:
                blocks.append((text, None))
        lead = _lead(origin, story, meta.ts)
        own_line = site.style in ("system", "paper", "trs")
        in_body = bool(lead) and bool(blocks) and blocks[0][0].startswith(lead)
        shown = own_line or in_body
        author = "、".join(story.reporters) if story.reporters and shown else None
        editor = None if site.style == "portal" else _editors(rng, site)
        repost = None
        if site.style == "portal":
            repost = f"{origin.name}-{story.province}频道"
        view = View(art, site, story.title, blocks, origin.name, repost, author, editor)
        n = len(blocks)
        if site.multipage and n >= MULTIPAGE_MIN:
            view.pages = [list(range(i, min(i + PAGE_BLOCKS, n))) for i in range(0, n, PAGE_BLOCKS)]
        else:
            view.pages = [list(range(n))]
        return view

    # -- lookups ----------------------------------------------------------------
    def url(self, art: Article, page: int = 1) -> str:
        return self.origin + art.path(page)

    def find(self, aid: str) -> Article | None:
        slug, _, num = aid.rpartition("-")
        site = SITE_BY_SLUG.get(slug)
        if site is None or not num.isdigit():
            return None
        return self.by_num[SITES.index(site)].get(int(num))

    def manifest_entry(self, art: Article) -> dict[str, Any]:
        view = self.view(art)
        pages = [self.url(art, i + 1) for i in range(len(view.pages))]
        base = self.origin + f"/{view.site.slug}/"
        images = [
            {"src": base + img[0], "caption": text} for text, img in view.blocks if img is not None
        ]
        return {
            "id": art.aid, "url": pages[0], "pages": pages, "outlet": view.site.slug,
            "outlet_name": view.site.name, "category": CATEGORIES[art.cat], "title": view.title,
            "published_at": iso(art.ts), "source": view.source, "author": view.author,
            "editor": view.editor, "repost_from": view.repost_from, "story": f"s{art.story:06d}",
            "body": [text for text, _ in view.blocks], "images": images,
            "encoding": view.site.encoding, "declared_charset": view.site.declared,
            "version": art.version,
        }  # fmt: skip

    def manifest(self) -> dict[str, Any]:
        return {"articles": [self.manifest_entry(a) for a in self.articles]}

    # -- changes through the control API -------------------------------------------
    def publish(
        self,
        outlet: str | None = None,
        category: str | None = None,
        title: str | None = None,
        text: str | None = None,
        story: str | None = None,
        now: int | None = None,
    ) -> Article:
        """Publish an article now; raise ``LookupError``/``ValueError`` on bad input."""
        ts = max(int(time.time()) if now is None else now, self.articles[-1].ts + 1)
        if story is not None:
            sid = _story_id(story)
            if sid is None or sid >= len(self.stories):
                raise LookupError(f"unknown story {story!r}")
            meta = self.stories[sid]
            taken = {a.site for a in self.articles if a.story == sid}
            if outlet is None:
                free = [i for i in range(len(SITES)) if i not in taken]
                site = free[0] if free else (meta.site + 1) % len(SITES)
            else:
                site = _site_index(outlet)
            art = Article(site, meta.cat, self._number(random.Random(ts), site), ts, sid, meta.site)
        else:
            site = _site_index(outlet) if outlet is not None else len(self.stories) % 5
            if category is None:
                cat = len(self.stories) % len(CATEGORIES)
            elif category in CATEGORIES:
                cat = CATEGORIES.index(category)
            else:
                raise ValueError(f"unknown category {category!r}")
            sid = len(self.stories)
            explicit = None
            if title is not None or text is not None:
                t = local(ts)
                base = make_story(self.seed, sid, cat, t.tm_mon, t.tm_mday)
                explicit = _content(base, title, text, ts, SITES[site])
                explicit = Story(explicit.title, explicit.blocks, (), *_rest(explicit)[1:])
            self.stories.append(StoryMeta(cat, site, ts, explicit))
            art = Article(site, cat, self._number(random.Random(ts), site), ts, sid, -1)
        art.modified = ts
        self._add(art)
        self.changed()
        return art

    def edit(self, aid: str, title: str | None = None, text: str | None = None) -> Article:
        art = self.find(aid)
        if art is None:
            raise LookupError(f"unknown article {aid!r}")
        current = self.story(art)
        if art.override is None and self.stories[art.story].explicit is None:
            view = self.view(art)  # freeze the generated text, lead line included
            blocks = tuple(
                Block(text, img is not None) for text, img in view.blocks
            )  # fmt: skip
            current = Story(current.title, blocks, *_rest(current))
        art.override = _content(current, title, text, art.ts, SITES[art.site])
        art.version += 1
        art.modified = max(int(time.time()), art.ts)
        self.changed()
        return art


def _rest(s: Story) -> tuple[tuple[str, ...], str, str, str, str]:
    return s.reporters, s.correspondent, s.city, s.province, s.topic


def _content(base: Story, title: str | None, text: str | None, ts: int, site: Site) -> Story:
    blocks = base.blocks
    if text is not None:
        paras = [p.strip() for p in text.split("\n") if p.strip()]
        if not paras:
            raise ValueError("text has no paragraphs")
        blocks = tuple(Block(p) for p in paras)
    new_title = base.title if title is None else title.strip()
    if not new_title:
        raise ValueError("title is empty")
    return Story(new_title, blocks, *_rest(base))


def _story_id(raw: str) -> int | None:
    raw = str(raw).lstrip("s")
    return int(raw) if raw.isdigit() else None


def _site_index(slug: str) -> int:
    site = SITE_BY_SLUG.get(slug)
    if site is None:
        raise LookupError(f"unknown outlet {slug!r}")
    return SITES.index(site)


@lru_cache(maxsize=65536)
def _head(seed: int, story: int, cat: int) -> Head:
    return make_head(seed, story, cat)


def _editors(rng: random.Random, site: Site) -> str:
    names = [person(rng) for _ in range(2 if site.style == "renmin" else 1)]
    return "、".join(names)


def _lead(origin: Site, story: Story, ts: int) -> str:
    """The byline the originating outlet puts in front of the first paragraph."""
    t = local(ts)
    date = f"{t.tm_mon}月{t.tm_mday}日"
    names = story.reporters
    if origin.style == "renmin":
        return f"{origin.name}{story.city}{date}电（记者 {'、'.join(names)}）"
    if origin.style == "xinhua":
        return f"{origin.name}{story.city}{date}电（记者{' '.join(names)}）"
    if origin.style == "system":
        return f"{origin.name}讯 记者 {'、'.join(names)} 通讯员 {story.correspondent} "
    if origin.style == "paper":
        return f"本报讯（记者 {'、'.join(names)}）"
    return ""
