"""Under ``/api/`` every error is JSON, whoever answered it.

The API's own views answer in JSON (kuaizhao/api/rest.py), but some errors come from
elsewhere: a method the route does not take (405), an address with no route (404), a request
refused by a middleware before any view saw it (a NUL character, a host not allowed: 400),
Django's own error page. A client of the API should never have to parse HTML.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, HttpResponseBase

PREFIX = "/api/"
MESSAGES = {
    400: "请求无效",
    403: "禁止访问",
    404: "没有这个接口，见 /api/docs",
    405: "不支持这种请求方法",
    500: "服务器出错，存档本身没有受到影响，请稍后再试",
}
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def _message(response: HttpResponseBase) -> str:
    # A plain-text answer is already a sentence meant for people (e.g. the NUL refusal).
    if response["Content-Type"].startswith("text/plain") and isinstance(response, HttpResponse):
        text = response.content.decode("utf-8", "replace").strip()
        if text and len(text) <= 200:
            return text
    status = response.status_code
    if status in MESSAGES:
        return MESSAGES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return MESSAGES[500 if status >= 500 else 400]


class JsonErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path.startswith(PREFIX)
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        body = json.dumps({"detail": _message(response)}, ensure_ascii=False)
        converted = HttpResponse(
            body, status=response.status_code, content_type="application/json; charset=utf-8"
        )
        for name in KEPT_HEADERS:
            if name in response:
                converted[name] = response[name]
        return converted
