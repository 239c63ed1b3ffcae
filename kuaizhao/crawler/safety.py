"""Which outlet a request belongs to, and whether it may reach a non-public address."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from kuaizhao.lib.outlets import Outlet, outlet_for

OUTLET_META = "kuaizhao_outlet"
"""Request meta key holding the outlet slug."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public(address: IPAddress) -> bool:
    """False for private, loopback, link-local, reserved, multicast and unspecified addresses."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def parse_ip(text: str | None) -> IPAddress | None:
    if not text:
        return None
    try:
        return ipaddress.ip_address(text.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (blocking: run it in a thread)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


class OutletMap:
    """Finds the outlet of a request: its meta slug, its scope, or the host of its seeds."""

    def __init__(self, outlets: Iterable[Outlet]) -> None:
        self.outlets = list(outlets)
        self.by_slug = {o.slug: o for o in self.outlets}
        self._by_origin: dict[str, list[Outlet]] = {}
        self._trusted: set[str] = set()
        for outlet in self.outlets:
            seeds = [outlet.home, *outlet.start_urls, *outlet.feeds, *outlet.sitemaps]
            seeds += [s for s in outlet.scope if "://" in s]
            for origin in {_origin(u) for u in seeds}:
                self._by_origin.setdefault(origin, []).append(outlet)

    def for_request(self, url: str, slug: str | None) -> Outlet | None:
        """The outlet a request was made for (robots.txt requests carry no slug)."""
        if slug and slug in self.by_slug:
            return self.by_slug[slug]
        found = outlet_for(url, self.outlets)
        if found is not None:
            return found
        same_host = self._by_origin.get(_origin(url), [])
        return same_host[0] if same_host else None

    def allows_private(self, url: str, slug: str | None) -> bool:
        """True if the request may go to a non-public address.

        A request without an outlet (robots.txt) may if an ``allow_private``
        outlet has seeds on its host or has already been let through to it.
        """
        if slug and slug in self.by_slug:
            allowed = self.by_slug[slug].allow_private
            if allowed:
                self._trusted.add(_origin(url))
            return allowed
        if _origin(url) in self._trusted:
            return True
        candidates = self._by_origin.get(_origin(url), [])
        scoped = outlet_for(url, self.outlets)
        if scoped is not None:
            candidates = [*candidates, scoped]
        return any(o.allow_private for o in candidates)
