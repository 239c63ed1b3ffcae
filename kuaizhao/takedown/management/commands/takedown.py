"""``kuaizhao takedown apply|list|revoke|purge|sync``: the operator's side of takedown.

A rule applied here has the same effect and leaves the same audit trail as one an approved
request makes; the actor recorded is ``--actor`` or the login name running the command.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count

from kuaizhao.takedown import actions, purge, visibility
from kuaizhao.takedown.models import REASONS, Hidden, Rule


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"not a date or time: {text!r} (e.g. 2027-01-01 or 2027-01-01T08:00+08:00)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class Command(BaseCommand):
    help = "Apply, list and revoke takedown rules; purge a request's records from the WARC files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--actor", default="", help="who acts (default: the login name)")
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("apply", help="make a rule")
        p.add_argument("--verb", required=True, choices=["exclude", "block", "allow"])
        p.add_argument("--prefix", help="every URL starting with this URL (or SURT)")
        p.add_argument("--url", help="this one URL only")
        p.add_argument("--reason", required=True, help="why: written to the audit trail")
        p.add_argument(
            "--category", default="other", choices=[r for r, _ in REASONS], help="for the report"
        )
        p.add_argument("--from", dest="starts", help="in force from this date/time")
        p.add_argument("--until", dest="ends", help="in force until this date/time (embargo)")
        p = sub.add_parser("list", help="the rules (in force; --all for revoked ones too)")
        p.add_argument("--all", action="store_true")
        p = sub.add_parser("revoke", help="revoke a rule")
        p.add_argument("rule", type=int)
        p.add_argument("--reason", required=True, help="why: written to the audit trail")
        p = sub.add_parser("purge", help="delete an approved request's records from the WARCs")
        p.add_argument("request", help="the request number, e.g. KZ-2026-00001")
        sub.add_parser("sync", help="apply embargoes whose dates have passed")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = options["actor"] or f"cli:{getpass.getuser()}"
        action = options["action"]
        try:
            if action == "apply":
                self.apply(actor, options)
            elif action == "list":
                self.list(options["all"])
            elif action == "revoke":
                rule = Rule.objects.filter(pk=options["rule"]).first()
                if rule is None:
                    raise CommandError(f"no rule {options['rule']}")
                actions.revoke_rule(rule, actor=actor, why=options["reason"])
                self.stdout.write(f"revoked rule {rule.pk}: {rule}")
            elif action == "purge":
                stats = purge.purge(options["request"], actor=actor)
                self.stdout.write(
                    f"purged {stats.records} WARC records from {stats.files} files "
                    f"({stats.captures} captures, {stats.articles} articles)"
                )
            else:
                self.stdout.write(f"{visibility.sync_due()} articles changed visibility")
        except (actions.ActionError, purge.PurgeError) as exc:
            raise CommandError(str(exc)) from None

    def apply(self, actor: str, options: dict[str, Any]) -> None:
        if bool(options["prefix"]) == bool(options["url"]):
            raise CommandError("give exactly one of --prefix URL and --url URL")
        if not options["reason"].strip():
            raise CommandError("--reason must say why")
        rule = actions.apply_rule(
            options["prefix"] or options["url"],
            options["verb"],
            actor=actor,
            reason=options["category"],
            note=options["reason"],
            exact=bool(options["url"]),
            starts_at=_moment(options["starts"]) if options["starts"] else None,
            ends_at=_moment(options["ends"]) if options["ends"] else None,
        )
        hidden = visibility.hidden_ids().filter(rule_id=rule.pk).count()
        self.stdout.write(f"rule {rule.pk}: {rule} ({hidden} articles hidden by it)")

    def list(self, everything: bool) -> None:
        rules = Rule.objects.select_related("request").order_by("id")
        if not everything:
            rules = rules.filter(revoked_at__isnull=True)
        counts = dict(Hidden.objects.values_list("rule_id").annotate(n=Count("article_id")))
        for rule in rules:
            window = ""
            if rule.starts_at or rule.ends_at:
                window = f" [{rule.starts_at or ''} .. {rule.ends_at or ''}]"
            state = f" revoked {rule.revoked_at:%Y-%m-%d}" if rule.revoked_at else ""
            self.stdout.write(
                f"{rule.pk}\t{rule.verb}\t{rule.surt}{'' if rule.exact else '*'}\t"
                f"{rule.reference}\t{counts.get(rule.pk, 0)} hidden{window}{state}\t{rule.note}"
            )
