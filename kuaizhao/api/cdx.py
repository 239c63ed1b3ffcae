"""``/cdx``: the CDX server API of pywb (and of the Wayback Machine), over the catalogue.

Parameters, as pywb reads them:

- ``url`` (required): a URL; ``*.example.com`` means ``matchType=domain`` and a trailing
  ``*`` means ``matchType=prefix``;
- ``matchType``: ``exact`` (default), ``prefix``, ``host`` or ``domain``;
- ``from`` / ``to``: 4- to 14-digit UTC timestamps, both ends included;
- ``limit``: at most this many lines; ``sort=reverse`` (newest first) or ``sort=closest``
  with ``closest=<timestamp>`` (exact matches only);
- ``output``: ``cdxj`` (default), ``json`` (one JSON object per line) or ``text``;
- ``fl``: the fields to output, comma-separated;
- ``filter``: ``[!]=field:value`` (equals) or ``[!]~field:value`` (contains), repeatable.

A malformed query is answered 400 with a message saying what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.http import require_safe

from kuaizhao.archive.mementos import BadTimestamp, timestamp_range
from kuaizhao.archive.models import Capture
from kuaizhao.lib.surt import BadUrl, surt
from kuaizhao.takedown import visibility
from kuaizhao.warc.cdxj import FIELDS, CdxEntry

MATCH_TYPES = ("exact", "prefix", "host", "domain")
OUTPUTS = {"cdxj": "text/x-cdxj", "json": "text/x-ndjson", "text": "text/plain"}
DEFAULT_LIMIT = 10_000
MAX_LIMIT = 100_000
MAX_URL = 2000
MAX_FILTERS = 10


class BadQuery(ValueError):
    pass


@dataclass(frozen=True)
class CdxQuery:
    key: str
    match_type: str
    start: datetime | None
    end: datetime | None
    limit: int
    sort: str
    closest: datetime | None
    output: str
    fields: tuple[str, ...]
    filters: tuple[Callable[[dict[str, str]], bool], ...]


def _one(request: HttpRequest, name: str, default: str = "") -> str:
    values = request.GET.getlist(name)
    if len(values) > 1:
        raise BadQuery(f"参数 {name} 只能出现一次")
    return values[0].strip() if values else default


def _filter(spec: str) -> Callable[[dict[str, str]], bool]:
    negate = spec.startswith("!")
    body = spec[1:] if negate else spec
    if body[:1] not in ("=", "~"):
        raise BadQuery("filter 只支持 =字段:值（等于）和 ~字段:值（包含），可加 ! 取反")
    mode, body = body[0], body[1:]
    name, sep, value = body.partition(":")
    if not sep or name not in FIELDS:
        raise BadQuery(f"filter 的字段应为 {', '.join(FIELDS)} 之一")

    def test(fields: dict[str, str]) -> bool:
        actual = fields.get(name, "")
        hit = actual == value if mode == "=" else value in actual
        return hit != negate

    return test


def parse_query(request: HttpRequest) -> CdxQuery:
    url = _one(request, "url")
    if not url:
        raise BadQuery("缺少 url 参数")
    if len(url) > MAX_URL:
        raise BadQuery("url 过长")
    match_type = _one(request, "matchType")
    if not match_type:
        if url.startswith("*."):
            url, match_type = url[2:], "domain"
        elif url.endswith("*"):
            url, match_type = url[:-1], "prefix"
        else:
            match_type = "exact"
    if match_type not in MATCH_TYPES:
        raise BadQuery(f"matchType 应为 {', '.join(MATCH_TYPES)} 之一")
    try:
        key = surt(url)
    except BadUrl:
        raise BadQuery("url 不是有效的网址") from None
    try:
        start = timestamp_range(_one(request, "from"))[0] if _one(request, "from") else None
        end = timestamp_range(_one(request, "to"))[1] if _one(request, "to") else None
        closest_text = _one(request, "closest")
        closest = timestamp_range(closest_text)[0] if closest_text else None
    except BadTimestamp as exc:
        raise BadQuery(f"from/to/closest：{exc}") from None
    limit_text = _one(request, "limit", str(DEFAULT_LIMIT))
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise BadQuery(f"limit 应为 1 到 {MAX_LIMIT} 之间的整数")
    sort = _one(request, "sort", "closest" if closest else "")
    if sort not in ("", "reverse", "closest"):
        raise BadQuery("sort 应为 reverse 或 closest")
    if sort == "closest" and (closest is None or match_type != "exact"):
        raise BadQuery("sort=closest 需要 closest=<时间戳>，且只用于 matchType=exact")
    output = _one(request, "output", "cdxj")
    if output not in OUTPUTS:
        raise BadQuery(f"output 应为 {', '.join(OUTPUTS)} 之一")
    fl = _one(request, "fl")
    fields = tuple(f.strip() for f in fl.split(",") if f.strip()) if fl else FIELDS
    unknown = [f for f in fields if f not in FIELDS]
    if unknown or not fields:
        raise BadQuery(f"fl 的字段应为 {', '.join(FIELDS)} 之一")
    specs = request.GET.getlist("filter")
    if len(specs) > MAX_FILTERS:
        raise BadQuery(f"filter 最多 {MAX_FILTERS} 个")
    return CdxQuery(
        key=key,
        match_type=match_type,
        start=start,
        end=end,
        limit=int(limit_text),
        sort=sort,
        closest=closest,
        output=output,
        fields=fields,
        filters=tuple(_filter(s) for s in specs),
    )


def _key_filter(key: str, match_type: str) -> Q:
    host = key.split(")", 1)[0]
    if match_type == "exact":
        return Q(surt=key)
    if match_type == "prefix":
        return Q(surt__startswith=key)
    if match_type == "host":
        return Q(surt__startswith=f"{host})/")
    domain = host.split(":", 1)[0]
    return Q(surt__startswith=f"{domain})") | Q(surt__startswith=f"{domain},")


def captures(query: CdxQuery) -> QuerySet[Capture]:
    rows = Capture.objects.filter(_key_filter(query.key, query.match_type))
    if query.start is not None:
        rows = rows.filter(captured_at__gte=query.start)
    if query.end is not None:
        rows = rows.filter(captured_at__lt=query.end)
    if query.sort == "reverse":
        return rows.order_by("-surt", "-captured_at", "-id")
    return rows.order_by("surt", "captured_at", "id")


def entry(capture: Capture) -> CdxEntry:
    return CdxEntry.make(
        url=capture.url,
        captured_at=capture.captured_at,
        record_type=capture.record_type,
        mime=capture.mime,
        status=capture.status,
        digest=capture.payload_digest,
        length=capture.length,
        offset=capture.offset,
        filename=capture.warc_file,
        urlkey=capture.surt,
    )


def select(query: CdxQuery) -> list[CdxEntry]:
    rules = visibility.rules()
    rows: Iterable[Capture] = captures(query)
    if query.sort == "closest" and query.closest is not None:
        moment = query.closest
        everything = list(captures(query)[:MAX_LIMIT])
        rows = sorted(everything, key=lambda c: (abs(c.captured_at - moment), c.captured_at))
    else:
        rows = captures(query)[: MAX_LIMIT if query.filters or rules else query.limit]
    kept: list[CdxEntry] = []
    for capture in rows:
        if rules and rules.hides(capture.surt):
            continue
        item = entry(capture)
        if all(test(item.fields()) for test in query.filters):
            kept.append(item)
            if len(kept) == query.limit:
                break
    return kept


def render(entries: list[CdxEntry], query: CdxQuery) -> Iterable[str]:
    for item in entries:
        if query.output == "json":
            yield json.dumps(item.fields(query.fields), ensure_ascii=False) + "\n"
        elif query.output == "text":
            yield item.text(query.fields) + "\n"
        else:
            yield item.cdxj(query.fields) + "\n"


@require_safe
def cdx(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    try:
        query = parse_query(request)
    except BadQuery as exc:
        return HttpResponse(f"{exc}\n", status=400, content_type="text/plain; charset=utf-8")
    entries = select(query)
    content_type = f"{OUTPUTS[query.output]}; charset=utf-8"
    response = StreamingHttpResponse(render(entries, query), content_type=content_type)
    response["Access-Control-Allow-Origin"] = "*"
    return response
