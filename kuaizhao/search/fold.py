"""Folding: the one normalisation applied to what is indexed and to what is searched, so that
different spellings of the same text find each other.

- full-width forms (U+FF01–U+FF5E) become their ASCII twins and the ideographic space a space:
  ＡＢＣ finds ABC and ５Ｇ finds 5G. That block includes the full-width comma, colon and
  brackets, so ``，`` also finds ``,``: a writer who types ``1,000`` or ``（上）`` in either width
  means the same thing, and a search for a lone comma is no search anyway. The ideographic
  full stop and enumeration comma (。、) have no ASCII twin and are left alone.
- letters are lower-cased (only where that keeps one character one character);
- traditional characters become simplified ones, character by character, with the table in
  ``kuaizhao.search.t2s`` (generated from OpenCC's character tables, see ``generate``).

Folding maps every character to exactly one character, so an offset in folded text is the
same offset in the original: snippets find the hit in folded text and cut the original.
Whitespace runs are collapsed to one space by ``fold`` (not by ``fold_chars``).

>>> fold("山西中部城市群ＡＢＣ")
'山西中部城市群abc'
>>> fold("國際　航線")
'国际 航线'
"""

from __future__ import annotations

import array
import functools
import importlib.util
import itertools
import sys
from pathlib import Path

from kuaizhao.search.t2s import SIMPLIFIED, TRADITIONAL

FULL_WIDTH_FIRST = 0xFF01
FULL_WIDTH_LAST = 0xFF5E
FULL_WIDTH_OFFSET = 0xFEE0
IDEOGRAPHIC_SPACE = "\u3000"


@functools.cache
def _table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(FULL_WIDTH_FIRST, FULL_WIDTH_LAST + 1):
        table[code] = chr(code - FULL_WIDTH_OFFSET).lower()
    table[ord(IDEOGRAPHIC_SPACE)] = " "
    for trad, simp in zip(TRADITIONAL, SIMPLIFIED, strict=True):
        table[ord(trad)] = simp
    return table


def fold_chars(text: str) -> str:
    """``text`` folded character by character; ``len(fold_chars(t)) == len(t)``."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a few letters (İ) lower-case to two characters
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return lowered.translate(_table())


def fold(text: str) -> str:
    """``text`` as the index holds it: folded, whitespace runs collapsed to one space."""
    return " ".join(fold_chars(text).split())


@functools.cache
def preimages() -> dict[str, str]:
    """For each character that others fold to, those others (国 -> 國…, a -> Aａ…): what a
    pattern over unfolded text must accept for it. Built once (about 30 ms): the characters
    of the table, and those that lower-case to another, found slice by slice."""
    codes = array.array("I", itertools.chain(range(0xD800), range(0xE000, sys.maxunicode + 1)))
    everything = codes.tobytes().decode(f"utf-32-{sys.byteorder[0]}e")
    changed = {chr(code) for code in _table()}
    for start in range(0, len(everything), _SLICE):
        chunk = everything[start : start + _SLICE]
        if chunk.lower() != chunk:
            changed.update(char for char in chunk if char.lower() != char)
    table: dict[str, str] = {}
    for char in sorted(changed):
        into = fold_chars(char)
        if into != char:
            table[into] = table.get(into, "") + char
    return table


_SLICE = 512


# -- generating the table ---------------------------------------------------------------------


def _opencc_dictionary() -> Path:
    spec = importlib.util.find_spec("opencc")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("install opencc-python-reimplemented==0.1.7 to generate the table")
    return Path(next(iter(spec.submodule_search_locations))) / "dictionary"


def _pairs(path: Path) -> dict[str, str]:
    """Single-character entries of an OpenCC table, first candidate only."""
    pairs: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        source, _, targets = line.partition("\t")
        target = targets.split(" ")[0] if targets else ""
        if len(source) == 1 and len(target) == 1 and source != target:
            pairs[source] = target
    return pairs


def build_table(dictionary: Path) -> dict[str, str]:
    """Traditional (and Taiwan/Hong Kong variant) character -> simplified character.

    Variants first go to the standard traditional character, then to simplified; chains are
    followed to their end so that folding twice changes nothing more.
    """
    to_simplified = _pairs(dictionary / "TSCharacters.txt")
    mapping = dict(to_simplified)
    for name in ("TWVariantsRev.txt", "HKVariantsRev.txt"):
        for variant, standard in _pairs(dictionary / name).items():
            mapping.setdefault(variant, to_simplified.get(standard, standard))
    resolved: dict[str, str] = {}
    for source in mapping:
        target, seen = mapping[source], {source}
        while target in mapping and target not in seen:
            seen.add(target)
            target = mapping[target]
        if target != source:
            resolved[source] = target
    return dict(sorted(resolved.items()))


def generate(out: Path) -> None:
    table = build_table(_opencc_dictionary())
    trad = "".join(table)
    simp = "".join(table.values())
    lines = [
        '"""Traditional -> simplified characters, one to one. Generated by',
        "``python -m kuaizhao.search.fold`` from the character tables of",
        'opencc-python-reimplemented 0.1.7 (OpenCC\'s data, Apache-2.0); do not edit."""',
        "",
        "# fmt: off",
        f"TRADITIONAL = {trad!r}  # noqa: E501",
        f"SIMPLIFIED = {simp!r}  # noqa: E501",
        "# fmt: on",
        "",
    ]
    out.write_text("\n".join(lines), encoding="utf-8")
    print(f"{len(table)} characters -> {out}")


if __name__ == "__main__":  # pragma: no cover
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("t2s.py"))
