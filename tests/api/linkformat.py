"""A strict parser for RFC 8288 Link header values and RFC 6690 link-format documents,
written from the RFCs' grammar, to check what the Memento endpoints send."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_LINK = re.compile(r"\s*<([^<>\s]*)>")
_PARAM = re.compile(rf'\s*;\s*({_TOKEN})(?:\s*=\s*(?:"((?:[^"\\]|\\.)*)"|({_TOKEN})))?')


class LinkFormatError(ValueError):
    pass


@dataclass
class Link:
    target: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def rels(self) -> set[str]:
        return set(self.params.get("rel", "").split())


def parse_links(text: str) -> list[Link]:
    """Every link-value of a Link header (or link-format body); raises on any syntax error."""
    links: list[Link] = []
    pos, text = 0, text.strip()
    while pos < len(text):
        match = _LINK.match(text, pos)
        if not match:
            raise LinkFormatError(f"expected <URI> at {pos}: {text[pos : pos + 30]!r}")
        link = Link(match.group(1))
        pos = match.end()
        while (param := _PARAM.match(text, pos)) is not None:
            name = param.group(1).lower()
            value = param.group(2) if param.group(2) is not None else (param.group(3) or "")
            if name in link.params and name in ("rel", "type", "datetime"):
                raise LinkFormatError(f"parameter {name} repeated")
            link.params[name] = value.replace('\\"', '"')
            pos = param.end()
        links.append(link)
        rest = re.compile(r"\s*(,|$)").match(text, pos)
        if not rest or (rest.group(1) == "" and rest.end() != len(text)):
            raise LinkFormatError(f"expected ',' at {pos}: {text[pos : pos + 30]!r}")
        pos = rest.end()
    return links


def by_rel(links: list[Link], rel: str) -> list[Link]:
    return [link for link in links if rel in link.rels]
