from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction

from kuaizhao.subscriptions.models import ApiToken, Profile


class Command(BaseCommand):
    help = "我的订阅 accounts: create one (its address counts as confirmed), or list them."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create an account, or reuse an existing one")
        create.add_argument("email")
        create.add_argument("--token", action="store_true", help="print a new API token")
        sub.add_parser("list", help="every account with its follow count")

    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model().objects
        if options["action"] == "list":
            for user in users.order_by("id"):
                self.stdout.write(f"{user.pk}\t{user.email}\t{user.follows.count()} follows")
            return
        email = str(options["email"]).strip().lower()
        try:
            validate_email(email)
        except Exception:
            raise CommandError(f"{email!r} is not an email address") from None
        with transaction.atomic():
            user, created = users.get_or_create(username=email, defaults={"email": email})
            if created:
                user.set_unusable_password()
                user.save()
            Profile.objects.update_or_create(user=user, defaults={"email_confirmed": True})
            token = ApiToken.issue(user) if options["token"] else None
        if token:
            self.stdout.write(token)
        else:
            self.stdout.write(f"{'created' if created else 'exists'}: {email}")
