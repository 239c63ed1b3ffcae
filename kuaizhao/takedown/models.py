"""Takedown requests, the access rules they lead to, and the audit trail of both.

Unlike the catalogue, nothing here is derived from the WARC files: ``reindex`` keeps it, and
``Hidden`` (the articles the rules hide right now) is refilled as articles are ingested again.
"""

from __future__ import annotations

from django.db import models

from kuaizhao.archive.models import Article
from kuaizhao.takedown.matching import reference

VERBS = [
    ("exclude", "排除（如同从未存档）"),
    ("block", "屏蔽（451，注明请求编号）"),
    ("allow", "允许（更窄的例外）"),
]
REASONS = [("copyright", "著作权"), ("privacy", "隐私"), ("other", "其他")]


class Request(models.Model):
    """A takedown request as a requester filed it, and where review has taken it."""

    class Status(models.TextChoices):
        UNCONFIRMED = "unconfirmed", "待确认邮箱"
        PENDING = "pending", "待审核"
        INFO = "info", "需补充材料"
        APPROVED = "approved", "已批准"
        REJECTED = "rejected", "已驳回"
        RESTORED = "restored", "已恢复"

    number = models.CharField(max_length=32, unique=True)
    secret = models.CharField(max_length=64, unique=True)
    email_token = models.CharField(max_length=64, unique=True)
    requester = models.CharField(max_length=200)
    email = models.EmailField(max_length=254)
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    scope = models.CharField(
        max_length=8, choices=[("urls", "这些网址"), ("prefix", "以此开头的所有网址")]
    )
    urls = models.TextField(help_text="每行一个网址")
    reason = models.CharField(max_length=16, choices=REASONS)
    explanation = models.TextField()
    proof = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UNCONFIRMED)
    verb = models.CharField(max_length=8, choices=VERBS, default="block")
    decision = models.TextField(blank=True, help_text="驳回理由或需补充的材料，申请人可见")
    counter_notice_at = models.DateTimeField(
        null=True, blank=True, help_text="最近一次异议的时间（异议见 CounterNotice）"
    )
    client = models.CharField(max_length=64, blank=True, help_text="来源地址的散列，仅用于限流")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["client", "created_at"], name="takedown_request_client")]

    def __str__(self) -> str:
        return self.number

    def url_list(self) -> list[str]:
        return [line.strip() for line in self.urls.splitlines() if line.strip()]


class CounterNotice(models.Model):
    """A publisher's dispute of an approved removal. Anyone holding the request number may
    file one, so a request takes several: a first, bogus one must not shut the real
    publisher out."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="counter_notices")
    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254)
    text = models.TextField()
    filed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.request.number}: {self.name}"


class Rule(models.Model):
    """An access rule on every URL whose SURT starts with ``surt`` (or equals it: ``exact``).

    The most specific rule in force wins; ``starts_at``/``ends_at`` bound an embargo.
    ``applied`` says whether ``Hidden`` reflects the rule's current state.
    """

    surt = models.TextField()
    exact = models.BooleanField(default=False)
    verb = models.CharField(max_length=8, choices=VERBS)
    reason = models.CharField(max_length=16, choices=REASONS)
    note = models.TextField(blank=True)
    request = models.ForeignKey(
        Request, null=True, blank=True, on_delete=models.PROTECT, related_name="rules"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=150, blank=True)
    revoke_reason = models.TextField(blank=True)
    applied = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["applied", "revoked_at"], name="takedown_rule_state"),
        ]

    def __str__(self) -> str:
        return f"{self.verb} {self.surt}{'' if self.exact else '*'}"

    @property
    def reference(self) -> str:
        """What a 451 page names: the request number, or the rule's own for operator rules."""
        return reference(self.pk, self.request.number if self.request else None)


class Hidden(models.Model):
    """An article a rule hides right now: what public lists leave out without a SURT match."""

    article = models.OneToOneField(
        Article, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="+")
    verb = models.CharField(max_length=8, choices=VERBS)

    def __str__(self) -> str:
        return f"{self.article_id} ({self.verb})"


class Event(models.Model):
    """One line of the audit trail: who did what to which request or rule, when and why."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=150)
    action = models.CharField(max_length=32)
    request = models.ForeignKey(
        Request, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    rule = models.ForeignKey(
        Rule, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action}"
