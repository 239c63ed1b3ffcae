"""Memento (RFC 7089) and Wayback-style addresses under ``/web/``.

- ``/web/<url>``: the TimeGate; answers 302 to the memento closest to ``Accept-Datetime``
  (the newest without it), with ``Vary: accept-datetime``;
- ``/web/timemap/link/<url>``: the TimeMap, ``application/link-format``;
- ``/web/*/<url>``: every capture of a URL, as a page;
- ``/web/<timestamp>/<url>``: a memento; a timestamp with no capture exactly at it
  redirects to the closest capture. HTML captures are shown in a sandboxed frame under a
  bar saying what they are; ``/web/<timestamp>if_/<url>`` is the framed, rewritten page
  (and every archived resource it embeds), ``/web/<timestamp>id_/<url>`` the bytes exactly
  as captured.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.views.decorators.http import require_safe

from kuaizhao import conf
from kuaizhao.archive import mementos
from kuaizhao.archive.models import Article, ArticleVersion, Capture
from kuaizhao.archive.replay import (
    CONTENT_POLICY,
    FRAME_SANDBOX,
    RAW_POLICY,
    Rewriter,
    rewrite_css,
    rewrite_html,
)
from kuaizhao.lib.surt import BadUrl, surt
from kuaizhao.warc.reader import WarcCapture, WarcError, read_capture

MEMENTO = re.compile(r"(?P<ts>\d{1,14})(?P<mod>[a-z]{2}_)?/(?P<url>.+)", re.DOTALL)
MODIFIERS = ("", "if_", "id_")
HTML_MIMES = ("text/html", "application/xhtml+xml")
MAX_URL = 2000
MAX_TIMEMAP = 10_000


class BadRequest(ValueError):
    pass


def _bad(message: str) -> HttpResponse:
    return HttpResponse(f"{message}\n", status=400, content_type="text/plain; charset=utf-8")


def _original_url(text: str, query: str) -> str:
    """The original URL in a ``/web/`` address (proxies may fold ``//`` into ``/``)."""
    url = text + (f"?{query}" if query else "")
    if re.search(r"[\x00-\x20\x7f]", url):
        raise BadRequest("网址中不能有空白或控制字符")
    url = re.sub(r"^(https?):/+", r"\1://", url, flags=re.IGNORECASE)
    scheme = re.match(r"^([a-z][a-z0-9+.-]*):(?!\d)", url, re.IGNORECASE)
    if scheme is None:
        url = "http://" + url
    elif scheme.group(1).lower() not in ("http", "https"):
        raise BadRequest("只能查询 http 和 https 网址")
    if len(url) > MAX_URL:
        raise BadRequest("网址过长")
    try:
        urlsplit(url)
        surt(url)
    except (BadUrl, ValueError):
        raise BadRequest("这不是有效的网址") from None
    return url


def _links(request: HttpRequest, url: str, *extra: str) -> str:
    absolute = request.build_absolute_uri
    return ", ".join(
        [
            mementos.link(url, "original"),
            mementos.link(absolute(mementos.timegate_path(url)), "timegate"),
            mementos.link(
                absolute(mementos.timemap_path(url)), "timemap", type=mementos.LINK_FORMAT
            ),
            *extra,
        ]
    )


def _memento_link(request: HttpRequest, capture: Capture, rel: str = "memento") -> str:
    return mementos.link(
        request.build_absolute_uri(mementos.memento_path(capture)),
        rel,
        datetime=mementos.http_date(capture.captured_at),
    )


@require_safe
def web(request: HttpRequest, rest: str) -> HttpResponseBase:
    """Everything under ``/web/``."""
    raw = request.path[request.path.index("/web/") + len("/web/") :]
    query = request.META.get("QUERY_STRING", "")
    if not raw:
        return _bad("用法：/web/<原文网址>、/web/<14位时间戳>/<原文网址>、/web/*/<原文网址>")
    try:
        if raw.startswith("timemap/link/"):
            return timemap(request, _original_url(raw[len("timemap/link/") :], query))
        if raw.startswith("*/"):
            return capture_list(request, _original_url(raw[2:], query))
        match = MEMENTO.fullmatch(raw)
        if match:
            modifier = match["mod"] or ""
            if modifier not in MODIFIERS:
                raise BadRequest(f"不支持的修饰符 {modifier}（可用 if_、id_）")
            return memento(request, match["ts"], modifier, _original_url(match["url"], query))
        return timegate(request, _original_url(raw, query))
    except BadRequest as exc:
        return _bad(str(exc))


def timegate(request: HttpRequest, url: str) -> HttpResponseBase:
    header = request.headers.get("Accept-Datetime")
    try:
        moment = mementos.parse_http_date(header) if header else None
    except mementos.BadTimestamp as exc:
        raise BadRequest(str(exc)) from None
    capture = mementos.closest(url, moment)
    if capture is None:
        response: HttpResponseBase = HttpResponse(
            "本站没有这个网址的存档\n", status=404, content_type="text/plain; charset=utf-8"
        )
        response["Link"] = _links(request, url)
    else:
        response = HttpResponseRedirect(request.build_absolute_uri(mementos.memento_path(capture)))
        response["Link"] = _links(request, url, _memento_link(request, capture))
    response["Vary"] = "accept-datetime"
    return response


def timemap(request: HttpRequest, url: str) -> HttpResponse:
    captures = list(mementos.captures_of(url)[:MAX_TIMEMAP])
    if not captures:
        raise Http404("本站没有这个网址的存档")
    absolute = request.build_absolute_uri
    first, last = captures[0], captures[-1]
    lines = [
        mementos.link(url, "original"),
        mementos.link(
            absolute(mementos.timemap_path(url)),
            "self",
            type=mementos.LINK_FORMAT,
            **{
                "from": mementos.http_date(first.captured_at),
                "until": mementos.http_date(last.captured_at),
            },
        ),
        mementos.link(absolute(mementos.timegate_path(url)), "timegate"),
    ]
    for i, capture in enumerate(captures):
        rel = "memento"
        if i == 0:
            rel = "first memento"
        if i == len(captures) - 1:
            rel = "last memento" if len(captures) > 1 else "first last memento"
        lines.append(_memento_link(request, capture, rel))
    body = ",\n".join(lines) + "\n"
    return HttpResponse(body, content_type=mementos.LINK_FORMAT)


def capture_list(request: HttpRequest, url: str) -> HttpResponse:
    captures = list(mementos.captures_of(url).order_by("-captured_at", "-id")[:MAX_TIMEMAP])
    context = {"url": url, "captures": captures, "timemap": mementos.timemap_path(url)}
    response = render(request, "archive/captures.html", context, status=200 if captures else 404)
    response["Link"] = _links(request, url)
    return response


def _payload_capture(capture: Capture) -> Capture:
    """The full response a revisit stands for (itself for a response)."""
    if capture.record_type != "revisit":
        return capture
    same = Capture.objects.filter(
        payload_digest=capture.payload_digest, record_type="response", surt=capture.surt
    )
    original = (
        same.filter(captured_at__lte=capture.captured_at).order_by("-captured_at").first()
        or same.order_by("captured_at").first()
    )
    if original is None:
        raise Http404("内容未变的采集所指向的原始记录不在存档中")
    return original


def _read(capture: Capture) -> WarcCapture:
    try:
        return read_capture(conf.warc_dir() / capture.warc_file, capture.offset)
    except (WarcError, OSError) as exc:
        raise Http404("存档文件无法读取") from exc


def memento(request: HttpRequest, ts: str, modifier: str, url: str) -> HttpResponseBase:
    try:
        moment = mementos.timestamp_range(ts[: len(ts) - len(ts) % 2])[0]
    except mementos.BadTimestamp as exc:
        raise BadRequest(str(exc)) from None
    capture = mementos.closest(url, moment)
    if capture is None:
        raise Http404("本站没有这个网址的存档")
    exact = mementos.ts14(capture.captured_at)
    if exact != ts:
        return HttpResponseRedirect(mementos.memento_path(capture, modifier))
    if modifier == "" and capture.mime in HTML_MIMES and 200 <= capture.status < 300:
        response: HttpResponseBase = frame(request, capture, url)
    else:
        response = replay(request, capture, modifier)
    response["Memento-Datetime"] = mementos.http_date(capture.captured_at)
    response["Link"] = _links(request, url, _memento_link(request, capture))
    return response


def frame(request: HttpRequest, capture: Capture, url: str) -> HttpResponse:
    """The bar saying what this is, and the captured page in a sandboxed frame under it."""
    version = ArticleVersion.objects.filter(capture=capture).select_related("article").first()
    article = version.article if version else Article.objects.filter(surt=capture.surt).first()
    context = {
        "capture": capture,
        "url": url,
        "article": article,
        "frame_src": mementos.memento_path(capture, "if_"),
        "raw_src": mementos.memento_path(capture, "id_"),
        "sandbox": FRAME_SANDBOX,
        "all_captures": f"/web/*/{capture.url}",
    }
    return render(request, "archive/replay.html", context)


def replay(request: HttpRequest, capture: Capture, modifier: str) -> HttpResponse:
    """The captured response: rewritten (``if_``, default) or exactly as captured (``id_``)."""
    record = _read(_payload_capture(capture))
    location = record.header("Location")
    if 300 <= capture.status < 400 and location and modifier != "id_":
        try:
            target = Rewriter(capture.url, mementos.ts14(capture.captured_at))
            path = target.page(location) if modifier == "" else target.resource(location)
        except ValueError:
            path = ""
        if path.startswith("/web/"):
            return HttpResponseRedirect(path)
    ctype = record.header("Content-Type") or "application/octet-stream"
    mime = record.content_type
    status = capture.status
    if not 200 <= status < 600 or 300 <= status < 400 or status == 204:
        status = 200
    if modifier == "id_":
        response = HttpResponse(record.payload, content_type=ctype, status=status)
        response["Content-Security-Policy"] = RAW_POLICY
        response["X-Frame-Options"] = "DENY"
    else:
        ts = mementos.ts14(capture.captured_at)
        if mime in HTML_MIMES:
            body = rewrite_html(record.payload, ctype, capture.url, ts)
            ctype = "text/html; charset=utf-8"
        elif mime == "text/css":
            body, ctype = rewrite_css(record.payload, capture.url, ts), "text/css; charset=utf-8"
        else:
            body = record.payload
        response = HttpResponse(body, content_type=ctype, status=status)
        response["Content-Security-Policy"] = CONTENT_POLICY
        response["X-Frame-Options"] = "SAMEORIGIN"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=86400"
    response["X-Archive-Payload-Digest"] = capture.payload_digest
    return response
