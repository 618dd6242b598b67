"""Django settings for Haven, read from environment variables.

Two modes:

* ``embedded`` (the default): SQLite in ``HAVEN_DATA_DIR`` and the in-memory channel layer.
  Meant for one process on one machine: a demo, development, the test suite.
* ``production`` (``HAVEN_MODE=production``): ``HAVEN_SECRET_KEY`` is required, ``DEBUG`` is
  impossible, and ``DATABASE_URL`` / ``REDIS_URL`` select PostgreSQL and Redis.

Every variable is documented in the README.
"""

from __future__ import annotations

import os
import secrets
import warnings
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "")
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or default


HAVEN_MODE = os.environ.get("HAVEN_MODE", "embedded").strip().lower()
if HAVEN_MODE not in {"embedded", "production"}:
    raise ImproperlyConfigured(
        f"HAVEN_MODE must be 'embedded' or 'production', not {HAVEN_MODE!r}."
    )
PRODUCTION = HAVEN_MODE == "production"

DATA_DIR = Path(os.environ.get("HAVEN_DATA_DIR", Path.cwd() / "var")).resolve()


def _secret_key() -> str:
    key = os.environ.get("HAVEN_SECRET_KEY", "")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured(
            "Haven is starting in production mode without a secret key. "
            "Set HAVEN_SECRET_KEY to a long random value (for example the output of "
            "`python3 -c 'import secrets; print(secrets.token_urlsafe(50))'`)."
        )
    # Embedded mode: keep a generated key in the data directory so that staff sessions
    # survive a restart. Never used in production.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

# DEBUG can never be on in production mode, whatever the environment says.
DEBUG = False if PRODUCTION else _env_bool("HAVEN_DEBUG", False)

ALLOWED_HOSTS = _env_list(
    "HAVEN_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "Set HAVEN_ALLOWED_HOSTS to the host names Haven is served on (comma separated)."
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "channels",
    "haven.core",
    "haven.audit",
    "haven.accounts",
    "haven.chat",
    "haven.cases",
    "haven.reports",
    "haven.estimation",
    "haven.letters",
    "haven.feedback",
    "haven.canned",
    "haven.referrals",
]

MIDDLEWARE = [
    # /healthz, /livez and /metrics for the proxy, systemd and monitoring, on the worker's
    # internal address: before the https redirect and the host check (see the class).
    "haven.core.middleware.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "haven.core.middleware.PrivacyHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Sessions verified with a django-otp device from before accounts migration 0003 are
    # pointed at its sealed replacement, before django-otp drops the unknown device.
    "haven.accounts.middleware.LegacyDeviceMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Staff must be signed in with a second factor, in a session not revoked by "sign out
    # everywhere", before any staff page answers.
    "haven.accounts.middleware.StaffSecurityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "haven.urls"
ASGI_APPLICATION = "haven.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "haven.accounts.context_processors.staff_nav",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
if PRODUCTION and not os.environ.get("DATABASE_URL"):
    raise ImproperlyConfigured(
        "Production mode needs DATABASE_URL (PostgreSQL), for example "
        "postgres://haven:secret@db.internal:5432/haven."
    )
# CONN_MAX_AGE stays 0, as Django advises under ASGI: each page request runs in a thread of
# its own. The chat's sockets use Haven's own database threads instead, which keep their
# connections open (haven/core/db.py), and on PostgreSQL every connection comes from a pool.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'haven.sqlite3'}",
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        # BEGIN IMMEDIATE: a writing transaction takes the write lock up front, so two
        # writers queue instead of one failing with "database is locked" half-way through.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        # synchronous=FULL: a commit is on disk before it returns, so an acknowledged
        # message survives a power cut too, not only a crash of Haven. The writer commits
        # many messages at once, so this costs one fsync per batch, not per message.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
    }
    # Tests use a file, not shared-cache memory, so that threads racing each other (two
    # counsellors accepting at once) lock the way they do in a real deployment.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Connecting costs more than most of the chat's queries: take connections from a pool
    # (psycopg_pool). Haven's database threads each hold one for as long as they live;
    # page requests borrow one per request.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 2,
        "max_size": int(os.environ.get("HAVEN_DB_POOL_SIZE", "20")),
        # While the database is away, a socket's frame waits this long for a connection
        # before the client is told to try again (haven.core.outage).
        "timeout": 5,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Threads that run the sockets' reads (haven/core/db.py); writes go to one writer thread per
# process, which commits up to HAVEN_WRITE_BATCH waiting writes in one transaction.
HAVEN_DB_THREADS = int(os.environ.get("HAVEN_DB_THREADS", "4"))
HAVEN_WRITE_BATCH = int(os.environ.get("HAVEN_WRITE_BATCH", "256"))

# --- Channel layer ------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # channels-redis' pub/sub layer (measured: it kept up under a load where the older
    # list-based Redis layer fell seconds behind), publishing in batches
    # (haven/core/layers.py). Redis' publish/subscribe does not see database numbers, so the
    # channels' names carry the number of REDIS_URL: two Havens on one Redis with different
    # databases do not hear each other.
    from urllib.parse import urlsplit

    _redis_db = urlsplit(REDIS_URL).path.strip("/") or "0"
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "haven.core.layers.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": f"haven{_redis_db}"},
        }
    }
else:
    # One process: Haven's own layer, which never scans every channel (haven/core/layers.py).
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "haven.core.layers.LocalChannelLayer", "CONFIG": {"capacity": 1000}}
    }

# The cache holds short-lived counters (sign-in failures, abuse limits) and today's key for
# hashing visitor sources. Shared through Redis when there is one, so that every worker
# counts the same; otherwise in this process's memory.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "haven",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth ---------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:home"
LOGOUT_REDIRECT_URL = "console:login"
# Staff sessions end after this many seconds without activity (each request, and console
# socket traffic, renews them), and at the latest when the browser closes.
SESSION_COOKIE_AGE = int(os.environ.get("HAVEN_SESSION_IDLE_SECONDS", str(30 * 60)))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Sign-in throttling: failures per account and per (hashed) source within the window.
HAVEN_LOGIN_FAILURES_PER_ACCOUNT = int(os.environ.get("HAVEN_LOGIN_FAILURES_PER_ACCOUNT", "5"))
HAVEN_LOGIN_FAILURES_PER_SOURCE = int(os.environ.get("HAVEN_LOGIN_FAILURES_PER_SOURCE", "20"))
HAVEN_LOGIN_LOCKOUT_SECONDS = int(os.environ.get("HAVEN_LOGIN_LOCKOUT_SECONDS", str(15 * 60)))
OTP_TOTP_ISSUER = "Haven"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Strict"

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The language lives in the URL (/ is Dutch, /en/ English): no language cookie on the visitor.
LANGUAGE_COOKIE_NAME = "haven_language"
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# WhiteNoise serves from the apps' static folders directly, so `haven serve` needs no
# collectstatic step; every file is ours, nothing comes from another host.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# WhiteNoise hands Django a file iterator that Django reads in a worker thread under ASGI.
# That works; the warning about it would fill the log on every static request.
warnings.filterwarnings(
    "ignore", message="StreamingHttpResponse must consume synchronous iterators"
)

# --- Security headers ---------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _env_bool("HAVEN_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = 63072000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = _env_list("HAVEN_CSRF_TRUSTED_ORIGINS", [])

# --- Haven --------------------------------------------------------------------------------
# Where the quick-exit button sends the visitor. Something everyday and neutral.
HAVEN_QUICK_EXIT_URL = os.environ.get("HAVEN_QUICK_EXIT_URL", "https://www.google.com/")
# The tab title on visitor pages: neutral, so a glance at a phone says nothing.
HAVEN_NEUTRAL_TITLE = os.environ.get("HAVEN_NEUTRAL_TITLE", "Chat")
HAVEN_MAX_MESSAGE_LENGTH = int(os.environ.get("HAVEN_MAX_MESSAGE_LENGTH", "4000"))
# Flood control per connection: a burst of this many frames, refilled at this rate per
# second. A connection that keeps pushing after being told to slow down is closed.
HAVEN_RATE_BURST = int(os.environ.get("HAVEN_RATE_BURST", "10"))
HAVEN_RATE_PER_SECOND = float(os.environ.get("HAVEN_RATE_PER_SECOND", "1.0"))
HAVEN_RATE_STRIKES = int(os.environ.get("HAVEN_RATE_STRIKES", "10"))
HAVEN_CONSOLE_RATE_BURST = int(os.environ.get("HAVEN_CONSOLE_RATE_BURST", "60"))
HAVEN_CONSOLE_RATE_PER_SECOND = float(os.environ.get("HAVEN_CONSOLE_RATE_PER_SECOND", "5.0"))
# Abuse limits per hashed source (the key changes daily) and per conversation, across
# connections: new chats per hour, and messages per minute.
HAVEN_STARTS_PER_SOURCE_PER_HOUR = int(os.environ.get("HAVEN_STARTS_PER_SOURCE_PER_HOUR", "6"))
HAVEN_MESSAGES_PER_SOURCE_PER_MINUTE = int(
    os.environ.get("HAVEN_MESSAGES_PER_SOURCE_PER_MINUTE", "40")
)
HAVEN_MESSAGES_PER_CONVERSATION_PER_MINUTE = int(
    os.environ.get("HAVEN_MESSAGES_PER_CONVERSATION_PER_MINUTE", "30")
)
HAVEN_BLOCK_SECONDS = int(os.environ.get("HAVEN_BLOCK_SECONDS", str(24 * 60 * 60)))
# A waiting visitor whose connection has been gone this long (a closed tab, a phone that
# went away, a worker that died) leaves the queue; one who comes back sooner keeps their
# place. Each worker says every HAVEN_PRESENCE_HEARTBEAT_SECONDS which waiting visitors it
# holds, and looks for absent ones as often, so a visitor leaves within absence + twice that.
HAVEN_QUEUE_ABSENCE_SECONDS = int(os.environ.get("HAVEN_QUEUE_ABSENCE_SECONDS", "120"))
HAVEN_PRESENCE_HEARTBEAT_SECONDS = int(os.environ.get("HAVEN_PRESENCE_HEARTBEAT_SECONDS", "20"))
# An open console says so every heartbeat; one not heard of for this long is gone (a worker
# killed with its sockets). With none left, waiting visitors are told nobody is watching
# the queue and may leave a message instead (haven.chat.positions, haven.letters).
HAVEN_CONSOLE_PRESENCE_SECONDS = int(os.environ.get("HAVEN_CONSOLE_PRESENCE_SECONDS", "60"))
# How often each worker reads the team's danger terms again (haven.chat.danger): a change
# made on one worker holds on every other within this time.
HAVEN_DANGER_TERMS_REFRESH_SECONDS = float(
    os.environ.get("HAVEN_DANGER_TERMS_REFRESH_SECONDS", "30")
)
# Messages left for later (haven.letters): longer than a chat message, a few per source an hour.
HAVEN_MAX_LETTER_LENGTH = int(os.environ.get("HAVEN_MAX_LETTER_LENGTH", "6000"))
HAVEN_LETTERS_PER_SOURCE_PER_HOUR = int(os.environ.get("HAVEN_LETTERS_PER_SOURCE_PER_HOUR", "5"))
# Wrong codes for messages left for later, from all sources together, before reading them
# is closed for the rest of the hour (a code opens a letter's words; see haven.letters).
HAVEN_LETTER_CODE_FAILURES_PER_HOUR = int(
    os.environ.get("HAVEN_LETTER_CODE_FAILURES_PER_HOUR", "300")
)
# The two questions after a chat (haven.feedback): a few answers per source an hour.
HAVEN_FEEDBACK_PER_SOURCE_PER_HOUR = int(os.environ.get("HAVEN_FEEDBACK_PER_SOURCE_PER_HOUR", "3"))

# Retention (see docs/codebook.md): transcripts are deleted this many days after their
# conversation ended (`haven purgetranscripts`, run daily); the coded case stays. A hold
# keeps one transcript longer, for HAVEN_HOLD_DAYS unless staff choose fewer, at most
# HAVEN_HOLD_MAX_DAYS.
HAVEN_TRANSCRIPT_RETENTION_DAYS = int(os.environ.get("HAVEN_TRANSCRIPT_RETENTION_DAYS", "30"))
HAVEN_HOLD_DAYS = int(os.environ.get("HAVEN_HOLD_DAYS", "90"))
HAVEN_HOLD_MAX_DAYS = int(os.environ.get("HAVEN_HOLD_MAX_DAYS", "365"))
# Published figures hide counts below this (disclosure control; see docs/reports.md).
HAVEN_REPORT_THRESHOLD = int(os.environ.get("HAVEN_REPORT_THRESHOLD", "10"))
# A return code works for this many days after it was given or last used.
HAVEN_RETURN_CODE_DAYS = int(os.environ.get("HAVEN_RETURN_CODE_DAYS", "365"))
# Wrong return codes allowed per conversation, and per hashed source per hour.
HAVEN_RETURN_CODE_ATTEMPTS = int(os.environ.get("HAVEN_RETURN_CODE_ATTEMPTS", "5"))
HAVEN_RETURN_CODE_ATTEMPTS_PER_SOURCE = int(
    os.environ.get("HAVEN_RETURN_CODE_ATTEMPTS_PER_SOURCE", "10")
)

# --- Encryption at rest --------------------------------------------------------------------
# Message text is encrypted in the database (see haven/core/crypto.py). HAVEN_ENCRYPTION_KEYS
# is a comma-separated list of Fernet keys, newest first: the first encrypts, all decrypt, and
# `haven rotatekeys` re-encrypts everything with the first. Embedded mode keeps a generated
# key in the data directory; production refuses to start without keys.


def _encryption_keys() -> list[str]:
    keys = _env_list("HAVEN_ENCRYPTION_KEYS", [])
    if keys:
        return keys
    if PRODUCTION:
        raise ImproperlyConfigured(
            "Production mode needs HAVEN_ENCRYPTION_KEYS: one or more Fernet keys, newest "
            "first (make one with `haven generatekey`)."
        )
    from cryptography.fernet import Fernet

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key_file = DATA_DIR / "encryption_key"
    if not key_file.exists():
        key_file.write_text(Fernet.generate_key().decode())
        key_file.chmod(0o600)
    return [key_file.read_text().strip()]


HAVEN_ENCRYPTION_KEYS = _encryption_keys()

# --- Logging ------------------------------------------------------------------------------
# No visitor address is ever written: uvicorn's access log is off, its per-connection INFO
# lines (which carry the peer address) are below the threshold, and every handler runs a
# filter that blanks anything shaped like an IP address as a last line of defence.
LOG_LEVEL = os.environ.get("HAVEN_LOG_LEVEL", "INFO").upper()
# uvicorn's INFO lines are one per connection and carry the peer address; they are only
# wanted when debugging, and the filter below removes the address even then.
UVICORN_LOG_LEVEL = "DEBUG" if LOG_LEVEL == "DEBUG" else "WARNING"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "haven.core.logging.RedactAddressesFilter"},
        "invalid_text": {"()": "haven.core.logging.QuietInvalidText"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "uvicorn": {"handlers": ["console"], "level": UVICORN_LOG_LEVEL, "propagate": False},
        "uvicorn.error": {
            "handlers": ["console"],
            "level": UVICORN_LOG_LEVEL,
            "filters": ["invalid_text"],
            "propagate": False,
        },
        "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        "django.server": {"handlers": [], "level": "CRITICAL", "propagate": False},
        # psycopg's pool warns at every failed connection attempt (several a second while
        # PostgreSQL is away); haven.outage says it once, and when it is back.
        "psycopg.pool": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
