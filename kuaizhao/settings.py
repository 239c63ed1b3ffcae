"""Django settings. Every knob comes from the environment through kuaizhao.conf."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import django_stubs_ext

from kuaizhao import conf

django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent
HOME = conf.home()


def _secret_key() -> str:
    key = conf.get("KUAIZHAO_SECRET_KEY")
    if key:
        return key
    path = HOME / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
DEBUG = conf.get_bool("KUAIZHAO_DEBUG")
ALLOWED_HOSTS = [h.strip() for h in conf.get("KUAIZHAO_ALLOWED_HOSTS").split(",") if h.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # The API docs page's scripts and styles, served by WhiteNoise (no CDN, the CSP allows it).
    "ninja",
    "kuaizhao.archive",
    "kuaizhao.takedown",
    "kuaizhao.subscriptions",
    "kuaizhao.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kuaizhao.archive.middleware.ContentSecurityPolicyMiddleware",
    "kuaizhao.api.middleware.JsonErrorsMiddleware",
    "kuaizhao.archive.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "kuaizhao.takedown.middleware.TakedownMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "kuaizhao.urls"
WSGI_APPLICATION = "kuaizhao.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kuaizhao.archive.context.site",
            ],
        },
    },
]


def database_from_url(url: str) -> dict[str, Any]:
    """Django's DATABASES entry for ``postgres://user:password@host:port/name?option=value``.

    >>> database_from_url("postgres://kz:s%40cret@db.example:6432/archive?sslmode=require")["NAME"]
    'archive'
    """
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise conf.ConfigError(
            f"KUAIZHAO_DATABASE_URL: unsupported scheme {parts.scheme!r} (use postgres://…)"
        )
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise conf.ConfigError("KUAIZHAO_DATABASE_URL: the database name is missing")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": dict(parse_qsl(parts.query)),
    }


_DATABASE_URL = conf.get("KUAIZHAO_DATABASE_URL").strip()
_CACHE_MB = conf.get_int("KUAIZHAO_SQLITE_CACHE_MB")
if _CACHE_MB < 1:
    raise conf.ConfigError(f"KUAIZHAO_SQLITE_CACHE_MB={_CACHE_MB}: expected 1 or more")
DATABASES = {
    "default": database_from_url(_DATABASE_URL)
    if _DATABASE_URL
    else {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": conf.database_path(),
        # Keep each web worker's connection: opening one runs the PRAGMAs below, which cost
        # more than serving a cached page. A search reads many FTS5 pages (structure, doclist
        # indexes, leaves) that the next search reads again: SQLite's default cache of 2 MiB
        # lets them go (docs/search.md, Measured).
        "CONN_MAX_AGE": 600,
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 5,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            f"PRAGMA cache_size=-{1024 * _CACHE_MB};",
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Static files are served by WhiteNoise straight from the package: no collectstatic step.
WHITENOISE_USE_FINDERS = True

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

KUAIZHAO_SITE_NAME = conf.get("KUAIZHAO_SITE_NAME")
KUAIZHAO_SITE_URL = conf.get("KUAIZHAO_SITE_URL")
KUAIZHAO_WEBHOOK_PRIVATE = conf.get_bool("KUAIZHAO_WEBHOOK_PRIVATE")

# Accounts of 我的订阅 (kuaizhao.subscriptions): mail goes through SMTP when a host is set,
# else into files under $KUAIZHAO_HOME/mail, so nothing is lost before mail is configured.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "subscriptions"
LOGOUT_REDIRECT_URL = "home"
DEFAULT_FROM_EMAIL = conf.get("KUAIZHAO_EMAIL_FROM")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if conf.get("KUAIZHAO_EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = conf.get("KUAIZHAO_EMAIL_HOST")
    EMAIL_PORT = conf.get_int("KUAIZHAO_EMAIL_PORT")
    EMAIL_HOST_USER = conf.get("KUAIZHAO_EMAIL_USER")
    EMAIL_HOST_PASSWORD = conf.get("KUAIZHAO_EMAIL_PASSWORD")
    EMAIL_USE_TLS = conf.get_bool("KUAIZHAO_EMAIL_TLS")
    EMAIL_TIMEOUT = 30
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(HOME / "mail")
KUAIZHAO_CONTACT_EMAIL = conf.get("KUAIZHAO_CONTACT_EMAIL")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
