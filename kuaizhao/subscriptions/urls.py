from django.contrib.auth import views as auth_views
from django.urls import path

from kuaizhao.subscriptions import accounts, feeds, views

urlpatterns = [
    path("subscriptions", views.home, name="subscriptions"),
    path("subscriptions/follow", views.follow, name="subscriptions-follow"),
    path(
        "subscriptions/follows/<int:follow_id>/delete",
        views.unfollow,
        name="subscriptions-unfollow",
    ),
    path("subscriptions/m/<int:match_id>", views.open_match, name="subscriptions-open"),
    path("subscriptions/read", views.mark_read, name="subscriptions-read"),
    path("subscriptions/settings", views.update_settings, name="subscriptions-settings"),
    path("subscriptions/feed-token", views.new_feed_token, name="subscriptions-feed-token"),
    path(
        "subscriptions/webhook-secret",
        views.new_webhook_secret,
        name="subscriptions-webhook-secret",
    ),
    path("subscriptions/api-token", views.new_api_token, name="subscriptions-api-token"),
    path(
        "subscriptions/api-token/revoke", views.revoke_api_tokens, name="subscriptions-api-revoke"
    ),
    path("subscriptions/feed/<str:token>.atom", feeds.ReaderFeed(), name="subscriptions-feed"),
    path(
        "subscriptions/follow-feed/<str:token>.atom",
        feeds.FollowFeed(),
        name="subscriptions-follow-feed",
    ),
    path("account/signup", accounts.signup, name="signup"),
    path("account/confirm/<str:token>", accounts.confirm, name="subscriptions-confirm"),
    path("account/confirm-again", accounts.resend, name="subscriptions-resend"),
    path("account/login", accounts.LoginView.as_view(), name="login"),
    path("account/logout", auth_views.LogoutView.as_view(), name="logout"),
    path("account/password-reset", accounts.PasswordResetView.as_view(), name="password_reset"),
    path(
        "account/password-reset/sent",
        auth_views.PasswordResetDoneView.as_view(
            template_name="subscriptions/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "account/password-reset/<uidb64>/<token>",
        accounts.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "account/password-reset/done",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="subscriptions/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]
