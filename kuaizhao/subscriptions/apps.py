from typing import Any

from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "kuaizhao.subscriptions"
    label = "subscriptions"
    verbose_name = "我的订阅"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from kuaizhao.archive.models import Article
        from kuaizhao.archive.signals import article_saved
        from kuaizhao.subscriptions import matching
        from kuaizhao.subscriptions.models import Follow

        def follows_changed(sender: Any, **kwargs: Any) -> None:
            if kwargs.get("created", True):
                matching.bump()

        article_saved.connect(matching.on_article_saved, sender=Article)
        post_save.connect(follows_changed, sender=Follow, weak=False)
        post_delete.connect(follows_changed, sender=Follow, weak=False)
