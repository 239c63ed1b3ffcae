from django.contrib import admin

from kuaizhao.subscriptions.models import Follow, Match, Profile, WebhookDelivery


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin[Profile]):
    list_display = ("user", "email_confirmed", "digest", "last_digest_at", "webhook_url")
    list_filter = ("email_confirmed", "digest")
    search_fields = ("user__email",)
    exclude = ("feed_token", "webhook_secret")


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin[Follow]):
    list_display = ("user", "kind", "label", "created_at")
    list_filter = ("kind",)
    search_fields = ("user__email", "value")
    exclude = ("feed_token",)


@admin.register(Match)
class MatchAdmin(admin.ModelAdmin[Match]):
    list_display = ("user", "kind", "article", "created_at", "read", "emailed", "pushed")
    list_filter = ("kind", "read")
    raw_id_fields = ("user", "follow", "article")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin[WebhookDelivery]):
    list_display = ("user", "url", "attempts", "next_attempt_at", "delivered_at", "failed")
    list_filter = ("failed",)
    readonly_fields = ("body",)
