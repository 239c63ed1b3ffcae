from typing import Any

from django.core.management.base import BaseCommand

from kuaizhao.subscriptions.delivery import deliver


class Command(BaseCommand):
    help = "Send due email digests and webhook deliveries of 我的订阅."

    def handle(self, *args: Any, **options: Any) -> None:
        done = deliver()
        self.stdout.write(
            f"{done.emails} digests mailed, {done.queued} webhook deliveries queued, "
            f"{done.pushed} delivered, {done.failed} to retry"
        )
