"""kuaizhao's own knobs, declared in one table and read from the environment.

Every setting is documented in docs/settings.md; a test checks that the two agree.
Django's own settings module reads these through :func:`get`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


class ConfigError(ValueError):
    """A setting has a value kuaizhao cannot use."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("KUAIZHAO_HOME", "./var", "Data directory: warc/, the SQLite database, logs."),
    Setting(
        "KUAIZHAO_OUTLETS",
        "outlets/real",
        "Directory of outlet configs (*.toml, searched recursively) that `kuaizhao crawl` uses.",
    ),
    Setting("KUAIZHAO_SITE_NAME", "kuaizhao", "Name of this archive, shown in the disclaimer."),
    Setting(
        "KUAIZHAO_CONTACT_EMAIL",
        "takedown@example.org",
        "Where rights holders write; shown on every snapshot page.",
    ),
    Setting(
        "KUAIZHAO_USER_AGENT",
        "kuaizhao/0.1 (news snapshot archive crawler)",
        "User-Agent the crawler sends; operators add their contact URL, e.g. (+https://…).",
    ),
    Setting("KUAIZHAO_SECRET_KEY", "", "Django secret key (random per home if empty).", True),
    Setting("KUAIZHAO_DEBUG", "False", "Django debug pages: True or False."),
    Setting("KUAIZHAO_ALLOWED_HOSTS", "127.0.0.1,localhost", "Comma-separated Host names served."),
    Setting("KUAIZHAO_MAX_RESPONSE_BYTES", "10485760", "Largest response body the crawler keeps."),
    Setting("KUAIZHAO_DOWNLOAD_TIMEOUT", "30", "Seconds before the crawler gives up on a fetch."),
    Setting(
        "KUAIZHAO_DATABASE_URL",
        "",
        "Catalogue database, e.g. postgres://user:pass@host:5432/kuaizhao (empty: SQLite in HOME).",
        True,
    ),
    Setting(
        "KUAIZHAO_REDIS_URL",
        "",
        "Redis shared by crawler processes (frontier, seen filter, schedules); empty: local state.",
        True,
    ),
    Setting("KUAIZHAO_REDIS_PREFIX", "kuaizhao", "Prefix of every Redis key the crawlers use."),
    Setting(
        "KUAIZHAO_RECHECK_AFTER",
        "3600",
        "Seconds after capture an article is first re-checked (then at doubling intervals).",
    ),
    Setting("KUAIZHAO_LIST_INTERVAL_MIN", "300", "Shortest re-visit interval of a source (s)."),
    Setting("KUAIZHAO_LIST_INTERVAL_MAX", "86400", "Longest re-visit interval of a source (s)."),
    Setting(
        "KUAIZHAO_WARC_MAX_AGE",
        "300",
        "Seconds after which a crawler closes its WARC file so ingest picks it up.",
    ),
    Setting(
        "KUAIZHAO_INGEST_INTERVAL",
        "60",
        "Seconds between two ingests of closed WARC files during `kuaizhao crawl`.",
    ),
    Setting(
        "KUAIZHAO_INDEX_MERGE_SECONDS",
        "2",
        "Seconds an ingest with no new WARC file spends merging the SQLite search index (0: none).",
    ),
    Setting(
        "KUAIZHAO_SQLITE_CACHE_MB",
        "64",
        "Page cache of each SQLite connection, in MiB (search reads many index pages).",
    ),
    Setting(
        "KUAIZHAO_SITE_URL",
        "http://127.0.0.1:8000",
        "The site's public address, for links in emails, feeds and webhooks.",
    ),
    Setting(
        "KUAIZHAO_EMAIL_HOST",
        "",
        "SMTP server for account and digest mail (empty: mail is written to HOME/mail).",
    ),
    Setting("KUAIZHAO_EMAIL_PORT", "25", "SMTP port (587 with KUAIZHAO_EMAIL_TLS=True)."),
    Setting("KUAIZHAO_EMAIL_USER", "", "SMTP user name (empty: no authentication)."),
    Setting("KUAIZHAO_EMAIL_PASSWORD", "", "SMTP password.", True),
    Setting("KUAIZHAO_EMAIL_TLS", "False", "STARTTLS to the SMTP server: True or False."),
    Setting(
        "KUAIZHAO_EMAIL_FROM",
        "kuaizhao <noreply@localhost>",
        "Sender address of account and digest mail.",
    ),
    Setting(
        "KUAIZHAO_WEBHOOK_PRIVATE",
        "False",
        "Allow subscription webhooks to private and loopback addresses (tests, intranets).",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def get(name: str) -> str:
    """The value of a declared setting: the environment's, else the default."""
    setting = _BY_NAME[name]
    if name not in os.environ and setting.secret and os.environ.get(f"{name}_FILE"):
        path = Path(os.environ[f"{name}_FILE"])
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE={path}: cannot read: {exc}") from None
    return os.environ.get(name, setting.default)


def get_bool(name: str) -> bool:
    value = get(name).strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off", ""):
        return False
    raise ConfigError(f"{name}={get(name)!r}: use 'True' or 'False'")


def get_int(name: str) -> int:
    value = get(name)
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r}: expected a whole number") from None


def home() -> Path:
    """The data directory, created on first use."""
    path = Path(get("KUAIZHAO_HOME")).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def warc_dir() -> Path:
    path = home() / "warc"
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    path = home() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_path() -> Path:
    return home() / "kuaizhao.sqlite3"


def outlets_dir() -> Path:
    return Path(get("KUAIZHAO_OUTLETS")).expanduser().resolve()


def dump(mask_secrets: bool = True) -> list[tuple[str, str]]:
    """Every setting with its current value, secrets masked."""
    rows = []
    for s in SETTINGS:
        value = get(s.name)
        if s.secret and mask_secrets and value:
            value = "********"
        rows.append((s.name, value))
    return rows
