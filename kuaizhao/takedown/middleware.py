"""Turns ``Blocked`` into a 451 and reads the takedown rules once per request."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.shortcuts import render

from kuaizhao.takedown import visibility

STATUS = 451


def blocked_response(request: HttpRequest, exc: visibility.Blocked) -> HttpResponseBase:
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "error": "unavailable_for_legal_reasons",
                "detail": f"根据删除请求 {exc.request_number}，此内容不再公开",
                "request_number": exc.request_number,
            },
            status=STATUS,
            json_dumps_params={"ensure_ascii": False},
        )
    context = {"request_number": exc.request_number, "url": exc.url}
    return render(request, ["451.html", "takedown/451.html"], context, status=STATUS)


def _too_large(request: HttpRequest) -> bool:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return limit is not None and length > limit


class TakedownMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if (
            request.method == "POST"
            and request.path.startswith("/takedown")
            and _too_large(request)
        ):
            # Answered before the CSRF check reads the body and turns this into a bare 400.
            from kuaizhao.takedown.views import too_large

            return too_large(request)
        with visibility.request_scope():
            return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponseBase | None:
        if isinstance(exception, visibility.Blocked):
            return blocked_response(request, exception)
        return None
