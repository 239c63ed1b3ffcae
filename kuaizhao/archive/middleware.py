"""Response headers every page gets."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBadRequest, HttpResponseBase

CSP = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    """Pages show text that came from other people's servers: nothing in it may load or run
    anything from elsewhere. Views that need a stricter policy set their own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


class RejectNulMiddleware:
    """A NUL character is never part of a URL or a query a reader meant; PostgreSQL cannot
    even store one in text. Refuse such requests before any view sees them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        values = [request.path, *(v for _, vs in request.GET.lists() for v in vs)]
        if any("\x00" in value for value in values):
            return HttpResponseBadRequest(
                "请求中含有无效字符（NUL）".encode(), content_type="text/plain; charset=utf-8"
            )
        return self.get_response(request)
