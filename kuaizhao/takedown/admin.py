"""Read-only views of the takedown tables in Django's admin; decisions are taken on the
review pages (``/takedown/review/``) so each one goes through the audited actions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from kuaizhao.takedown.models import Event, Request, Rule


class ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Request)
class RequestAdmin(ReadOnly, admin.ModelAdmin[Request]):
    list_display = ("number", "status", "reason", "scope", "created_at", "decided_at")
    list_filter = ("status", "reason")
    search_fields = ("number", "urls", "requester", "email")
    exclude = ("secret", "email_token", "client")


@admin.register(Rule)
class RuleAdmin(ReadOnly, admin.ModelAdmin[Rule]):
    list_display = ("id", "verb", "surt", "exact", "request", "created_at", "revoked_at")
    list_filter = ("verb", "reason")
    search_fields = ("surt",)


@admin.register(Event)
class EventAdmin(ReadOnly, admin.ModelAdmin[Event]):
    list_display = ("at", "actor", "action", "request", "rule", "detail")
    list_filter = ("action",)
