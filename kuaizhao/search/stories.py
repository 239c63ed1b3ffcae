"""Stories: the copies of one article that outlets carry, grouped.

Two rules join articles into one story:

1. **Near-duplicates**: the sets of 5-character shingles of their folded text have a Jaccard
   similarity of about 0.85 or more. Each text gets a MinHash signature by one-permutation
   hashing (one hash per shingle, the minimum per bin of ``BINS`` bins, empty bins filled
   from the next one), so a signature costs one pass over the text; a banded LSH index
   (``BANDS`` x ``ROWS``) finds the candidates and the signatures' agreement decides.
2. **The 转自/来源 chain**: an article that names another outlet as its source (来源/本文转自),
   has the same title as an earlier article of that outlet and shares at least
   ``CHAIN_THRESHOLD`` of its shingles is a copy of it, even when edited beyond the
   near-duplicate threshold; copies of copies follow the chain. The title alone is not
   enough: outlets reuse headlines for different events (on the sample web different stories
   under one headline share at most 0.55).

The earliest capture in a group is the original. Everything here is pure: ``StoryIndex``
keeps its state in memory (``group_stories`` groups a batch at once); the catalogue keeps the
same state in tables, ``band_keys`` and ``title_key`` being the integers it indexes, so ingest
finds an article's candidates with one indexed lookup.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from kuaizhao.search.fold import fold

SHINGLE = 5
BINS = 128
BANDS = 16
ROWS = BINS // BANDS
THRESHOLD = 0.85
CHAIN_THRESHOLD = 0.6
_BIN_BITS = 7  # 2**7 == BINS
_MASK = (1 << 57) - 1
_EMPTY = 1 << 64


@dataclass(frozen=True)
class StoryDoc:
    id: int
    outlet: str
    title: str
    body: str
    captured_at: datetime
    source: str = ""
    """The outlet the article says it comes from (来源 / 本文转自), if any."""


def shingles(text: str, size: int = SHINGLE) -> set[str]:
    """Overlapping ``size``-character pieces of folded ``text`` without spaces."""
    compact = fold(text).replace(" ", "")
    if len(compact) <= size:
        return {compact} if compact else set()
    return {compact[i : i + size] for i in range(len(compact) - size + 1)}


def signature(text: str) -> tuple[int, ...]:
    """MinHash signature (one-permutation hashing with densification) of ``text``."""
    bins = [_EMPTY] * BINS
    blake2b, from_bytes, shift = hashlib.blake2b, int.from_bytes, 64 - _BIN_BITS
    for piece in shingles(text):  # blake2b-64 of each shingle, inlined: hot in ingest
        h = from_bytes(blake2b(piece.encode(), digest_size=8).digest(), "big")
        b, value = h >> shift, h & _MASK
        if value < bins[b]:
            bins[b] = value
    if all(v == _EMPTY for v in bins):
        return tuple(bins)
    filled = list(bins)
    for i in range(BINS):  # an empty bin borrows from the next filled one, shifted per gap
        step = 1
        while filled[i] == _EMPTY:
            donor = bins[(i + step) % BINS]
            if donor != _EMPTY:
                filled[i] = donor + (step << 57)
            step += 1
    return tuple(filled)


def pack(sig: tuple[int, ...]) -> bytes:
    """A signature as 8 bytes per bin, for a catalogue column."""
    return b"".join(v.to_bytes(8, "big") for v in sig)


def unpack(data: bytes) -> tuple[int, ...]:
    return tuple(int.from_bytes(data[i : i + 8], "big") for i in range(0, len(data), 8))


def _int64(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)


def band_keys(sig: tuple[int, ...]) -> list[int]:
    """The signature's LSH bands as signed 64-bit keys (band number included), for a table:
    two texts share a key when they agree on every bin of one band."""
    return [
        _int64(b"%d:" % band + pack(sig[band * ROWS : (band + 1) * ROWS])) for band in range(BANDS)
    ]


def title_key(title: str) -> int:
    """A key for the 转自 chain's candidates: articles whose folded titles are equal."""
    return _int64(b"title:" + fold(title).encode())


def similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity of the texts behind two signatures."""
    return sum(x == y for x, y in zip(a, b, strict=True)) / BINS


def jaccard(a: str, b: str) -> float:
    """Exact Jaccard similarity of two texts' shingle sets (for tests and checks)."""
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb) if sa or sb else 1.0


def text_of(doc: StoryDoc) -> str:
    return f"{doc.title}\n{doc.body}"


class StoryIndex:
    """Incremental near-duplicate index: ``add`` returns the ids of earlier near-duplicates."""

    def __init__(self, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold
        self.buckets: dict[tuple[int, bytes], list[int]] = defaultdict(list)
        self.signatures: dict[int, tuple[int, ...]] = {}

    @staticmethod
    def _bands(sig: tuple[int, ...]) -> list[tuple[int, bytes]]:
        keys = []
        for band in range(BANDS):
            rows = sig[band * ROWS : (band + 1) * ROWS]
            digest = hashlib.blake2b(repr(rows).encode(), digest_size=8).digest()
            keys.append((band, digest))
        return keys

    def query(self, sig: tuple[int, ...]) -> list[int]:
        found: set[int] = set()
        for key in self._bands(sig):
            found.update(self.buckets.get(key, ()))
        return sorted(i for i in found if similarity(sig, self.signatures[i]) >= self.threshold)

    def add(self, doc_id: int, text: str) -> list[int]:
        return self.add_signature(doc_id, signature(text))

    def add_signature(self, doc_id: int, sig: tuple[int, ...]) -> list[int]:
        """Like ``add`` for a stored signature (rebuilding the index from the catalogue)."""
        matches = self.query(sig)
        self.signatures[doc_id] = sig
        for key in self._bands(sig):
            self.buckets[key].append(doc_id)
        return matches


class _Groups:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def names_source(copy: StoryDoc, original: StoryDoc) -> bool:
    """``copy`` names ``original``'s outlet as its source (not its own outlet), was captured
    after it and carries the same headline: what the 转自 chain requires before the texts are
    compared. The source line may add a channel (华夏日报网-山西频道)."""
    source = fold(copy.source)
    outlet = fold(original.outlet)
    return (
        bool(source and outlet)
        and copy.id != original.id
        and not source.startswith(fold(copy.outlet))
        and source.startswith(outlet)
        and original.captured_at <= copy.captured_at
        and fold(copy.title) == fold(original.title)
    )


def chain_links(
    docs: Iterable[StoryDoc], signatures: dict[int, tuple[int, ...]]
) -> list[tuple[int, int]]:
    """(copy, original) pairs by the 转自/来源 rule (see the module docstring). The source line
    may add a channel (华夏日报网-山西频道); the most similar earlier candidate wins."""
    by_title: dict[str, list[StoryDoc]] = defaultdict(list)
    for doc in docs:
        by_title[fold(doc.title)].append(doc)
    links = []
    for group in by_title.values():
        for copy in group:
            best, best_similarity = None, CHAIN_THRESHOLD
            for original in group:
                if not names_source(copy, original):
                    continue
                value = similarity(signatures[copy.id], signatures[original.id])
                if value >= best_similarity:
                    best, best_similarity = original.id, value
            if best is not None:
                links.append((copy.id, best))
    return links


def group_stories(docs: Iterable[StoryDoc]) -> dict[int, int]:
    """Each article's story, named by the id of its original (the earliest capture)."""
    items = sorted(docs, key=lambda d: (d.captured_at, d.id))
    groups = _Groups()
    index = StoryIndex()
    for doc in items:
        groups.find(doc.id)
        for other in index.add(doc.id, text_of(doc)):
            groups.join(doc.id, other)
    for copy, original in chain_links(items, index.signatures):
        groups.join(copy, original)
    order = {doc.id: n for n, doc in enumerate(items)}
    members: dict[int, list[int]] = defaultdict(list)
    for doc in items:
        members[groups.find(doc.id)].append(doc.id)
    story: dict[int, int] = {}
    for ids in members.values():
        original = min(ids, key=order.__getitem__)
        for i in ids:
            story[i] = original
    return story
