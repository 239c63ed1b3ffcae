"""Readers' own rows: what they follow, what matched, how they want to hear about it.

Unlike the catalogue these are not derived from the WARC files. A match points at an
article, so ``kuaizhao reindex`` (which rebuilds the articles) drops the matches recorded
so far; follows, accounts and tokens survive it.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models

from kuaizhao.archive.models import Article

DIGEST_CHOICES = [
    ("off", "不发送邮件"),
    ("immediate", "即时"),
    ("hourly", "每小时"),
    ("daily", "每天"),
]
KIND_CHOICES = [
    ("category", "类别"),
    ("outlet", "媒体"),
    ("query", "关键词"),
    ("story", "报道"),
]
MATCH_KINDS = [("new", "新报道"), ("coverage", "新转载"), ("edit", "内容修改")]


def new_token() -> str:
    return secrets.token_urlsafe(24)


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Profile(models.Model):
    """How a reader wants to be told: email digest rhythm, private feed token, webhook."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reader"
    )
    email_confirmed = models.BooleanField(default=False)
    digest = models.CharField(max_length=16, choices=DIGEST_CHOICES, default="daily")
    last_digest_at = models.DateTimeField(null=True, blank=True)
    feed_token = models.CharField(max_length=64, unique=True, default=new_token)
    webhook_url = models.URLField(max_length=500, blank=True)
    webhook_secret = models.CharField(max_length=64, default=new_token)

    def __str__(self) -> str:
        return str(self.user)


class Follow(models.Model):
    """One thing a reader follows. ``value``: category name, outlet slug, query, story id."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows"
    )
    kind = models.CharField(max_length=16, choices=KIND_CHOICES)
    value = models.CharField(max_length=256)
    label = models.CharField(max_length=300, blank=True)
    feed_token = models.CharField(max_length=64, unique=True, default=new_token)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "value"], name="follow_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.label or self.value}"


class Generation(models.Model):
    """One row whose counter goes up whenever a follow is added or removed, so every
    process holding an index of the follows notices with one cheap query."""

    counter = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.counter)


class Match(models.Model):
    """An article a reader hears about. ``key`` makes it once per story (``new``), once per
    new copy of a followed story (``coverage``) and once per new version (``edit``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="matches"
    )
    follow = models.ForeignKey(Follow, null=True, on_delete=models.SET_NULL, related_name="+")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    story = models.BigIntegerField()
    kind = models.CharField(max_length=16, choices=MATCH_KINDS, default="new")
    key = models.CharField(max_length=64)
    version = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    read = models.BooleanField(default=False)
    emailed = models.BooleanField(default=False)
    pushed = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="match_once")]
        indexes = [models.Index(fields=["user", "-created_at"], name="match_latest")]

    def __str__(self) -> str:
        return f"{self.user} · {self.kind} · {self.article_id}"


class ApiToken(models.Model):
    """A token for the JSON API; only its SHA-256 is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} · {self.digest[:8]}"

    @classmethod
    def issue(cls, user: models.Model) -> str:
        token = "kz_" + secrets.token_urlsafe(30)
        cls.objects.create(user=user, digest=digest_of(token))
        return token


class Attempt(models.Model):
    """A login or sign-up attempt, kept for a while for rate limiting across processes."""

    scope = models.CharField(max_length=16)
    key = models.CharField(max_length=300)
    at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["scope", "key", "at"], name="attempt_window")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class WebhookDelivery(models.Model):
    """One signed POST to a reader's webhook, retried with growing delays until it lands."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    url = models.URLField(max_length=500)
    body = models.TextField()
    attempts = models.IntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed = models.BooleanField(default=False)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.url} ({self.attempts})"
