"""Accounts: sign up with an email address, confirm it, log in and out, reset the password.

Django's auth does the work; what is added here is the address confirmation (nothing is
mailed to an address before its owner clicked the link sent to it, apart from that link and
password resets it asks for) and rate limits on logging in and signing up, counted in the
database so that every server process shares them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core import signing
from django.core.mail import send_mail
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from kuaizhao.subscriptions.delivery import absolute
from kuaizhao.subscriptions.models import Attempt, Profile

CONFIRM_SALT = "kuaizhao.subscriptions.confirm"
CONFIRM_MAX_AGE = 3 * 86400
WINDOW = timedelta(minutes=15)
# Failures are counted per account *from one address*: a stranger who knows an address cannot
# lock its owner out by failing on purpose, yet guessing from one place stops at 5. The
# per-account bound across all addresses is high and only slows a guesser with many addresses.
LOGIN_FAILURES_PER_ACCOUNT = 5
LOGIN_FAILURES_PER_ACCOUNT_ANYWHERE = 100
LOGIN_FAILURES_PER_ADDRESS = 20
SIGNUPS_PER_ADDRESS = 5
SIGNUP_WINDOW = timedelta(hours=1)
MIN_PASSWORD = 8


def client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def too_many(scope: str, key: str, limit: int, window: timedelta) -> bool:
    since = timezone.now() - window
    return Attempt.objects.filter(scope=scope, key=key[:300], at__gte=since).count() >= limit


def note(scope: str, key: str) -> None:
    now = timezone.now()
    Attempt.objects.filter(at__lt=now - max(WINDOW, SIGNUP_WINDOW)).delete()
    Attempt.objects.create(scope=scope, key=key[:300], at=now)


def profile_of(user: Any) -> Profile:
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


def send_confirmation(user: Any) -> None:
    token = signing.dumps({"u": user.pk, "e": user.email}, salt=CONFIRM_SALT)
    link = absolute(reverse("subscriptions-confirm", args=[token]))
    context = {"user": user, "link": link, "site_name": settings.KUAIZHAO_SITE_NAME}
    send_mail(
        f"确认您的邮箱 · {settings.KUAIZHAO_SITE_NAME}",
        render_to_string("subscriptions/email/confirm.txt", context),
        None,
        [user.email],
    )


class SignupForm(forms.Form):
    email = forms.EmailField(label="邮箱", max_length=150)
    password1 = forms.CharField(label="密码", widget=forms.PasswordInput, min_length=MIN_PASSWORD)
    password2 = forms.CharField(label="再输一次密码", widget=forms.PasswordInput)

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).strip().lower()
        if get_user_model().objects.filter(username=email).exists():
            raise forms.ValidationError("这个邮箱已经注册过了，请直接登录或找回密码")
        return email

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "两次输入的密码不一致")
        return data


def safe_next(request: HttpRequest) -> str:
    """Where to go after the form: a path on this site, or nowhere."""
    target = str(request.POST.get("next") or request.GET.get("next") or "")
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and allowed else ""


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    context: dict[str, Any] = {"form": form, "next": safe_next(request)}
    if request.method == "POST":
        address = client_address(request)
        if too_many("signup", address, SIGNUPS_PER_ADDRESS, SIGNUP_WINDOW):
            context["limited"] = True
            return render(request, "subscriptions/signup.html", context, status=429)
        note("signup", address)
        if form.is_valid():
            email = form.cleaned_data["email"]
            user = get_user_model().objects.create_user(
                username=email, email=email, password=form.cleaned_data["password1"]
            )
            profile_of(user)
            send_confirmation(user)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.info(
                request,
                f"确认邮件已发往 {email}：点击其中的链接后，我们才会给这个邮箱发送订阅邮件。",
            )
            return redirect(context["next"] or "subscriptions")
    return render(request, "subscriptions/signup.html", context)


def confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.BadSignature:
        return render(request, "subscriptions/confirmed.html", {"ok": False}, status=400)
    user = get_user_model().objects.filter(pk=data.get("u"), email=data.get("e")).first()
    if user is None:
        return render(request, "subscriptions/confirmed.html", {"ok": False}, status=400)
    Profile.objects.update_or_create(user=user, defaults={"email_confirmed": True})
    return render(request, "subscriptions/confirmed.html", {"ok": True, "email": user.email})


@require_http_methods(["POST"])
def resend(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    address = client_address(request)
    if too_many("resend", str(request.user.pk), 3, SIGNUP_WINDOW):
        messages.error(request, "发送过于频繁，请稍后再试")
        return redirect("subscriptions")
    note("resend", str(request.user.pk) or address)
    send_confirmation(request.user)
    messages.info(request, "确认邮件已重新发送")
    return redirect("subscriptions")


class EmailLoginForm(AuthenticationForm):
    username = forms.CharField(label="邮箱", max_length=150)

    def clean_username(self) -> str:
        return str(self.cleaned_data["username"]).strip().lower()


class LoginView(auth_views.LoginView):
    """Django's login, refusing further tries once an account or an address failed too often."""

    form_class = EmailLoginForm
    template_name = "subscriptions/login.html"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        account = str(request.POST.get("username", "")).strip().lower()
        address = client_address(request)
        limits = [
            ("login-from", f"{address} {account}", LOGIN_FAILURES_PER_ACCOUNT),
            ("login", account, LOGIN_FAILURES_PER_ACCOUNT_ANYWHERE),
            ("login-ip", address, LOGIN_FAILURES_PER_ADDRESS),
        ]
        if any(too_many(scope, key, limit, WINDOW) for scope, key, limit in limits):
            context = {"form": self.get_form(), "limited": True, "next": safe_next(request)}
            return render(request, self.template_name, context, status=429)
        response = super().post(request, *args, **kwargs)
        if not request.user.is_authenticated:
            for scope, key, _ in limits:
                note(scope, key)
        return response


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "subscriptions/password_reset.html"
    email_template_name = "subscriptions/email/password_reset.txt"
    subject_template_name = "subscriptions/email/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        address = client_address(self.request)
        if too_many("reset", address, SIGNUPS_PER_ADDRESS, SIGNUP_WINDOW):
            return render(
                self.request, self.template_name, {"form": form, "limited": True}, status=429
            )
        note("reset", address)
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Setting a new password through the emailed link also proves the address works."""

    template_name = "subscriptions/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        Profile.objects.update_or_create(user_id=form.user.pk, defaults={"email_confirmed": True})
        return response
