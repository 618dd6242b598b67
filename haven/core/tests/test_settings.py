"""Configuration from the environment, checked in a fresh interpreter each time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = (
    "import json; from django.conf import settings as s; "
    "print(json.dumps({'debug': s.DEBUG, 'engine': s.DATABASES['default']['ENGINE'], "
    "'layer': s.CHANNEL_LAYERS['default']['BACKEND'], 'hosts': s.ALLOWED_HOSTS, "
    "'hsts': getattr(s, 'SECURE_HSTS_SECONDS', 0), 'secure': s.SESSION_COOKIE_SECURE}))"
)


def run_haven(tmp_path: Path, args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """Run Python with ``args`` in a fresh interpreter whose only Haven settings are ``env``."""
    ours = ("HAVEN_", "DATABASE_URL", "REDIS_URL")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    clean.update(DJANGO_SETTINGS_MODULE="haven.settings", HAVEN_DATA_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, *args], env=clean, capture_output=True, text=True, timeout=120
    )


def load(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run_haven(tmp_path, ["-c", "import django; django.setup(); " + PROBE], **env)


def test_embedded_defaults(tmp_path: Path) -> None:
    """No variables: SQLite in the data dir, in-memory channel layer, local hosts only."""
    result = load(tmp_path)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["layer"] == "haven.core.layers.LocalChannelLayer"
    assert values["debug"] is False
    assert "127.0.0.1" in values["hosts"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_without_a_secret_key_stops_with_a_clear_message(tmp_path: Path) -> None:
    result = load(tmp_path, HAVEN_MODE="production", HAVEN_ALLOWED_HOSTS="haven.example")
    assert result.returncode != 0
    assert "HAVEN_SECRET_KEY" in result.stderr


def test_production_needs_a_database_url(tmp_path: Path) -> None:
    result = load(
        tmp_path,
        HAVEN_MODE="production",
        HAVEN_SECRET_KEY="k" * 50,
        HAVEN_ALLOWED_HOSTS="haven.example",
    )
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_production_needs_allowed_hosts(tmp_path: Path) -> None:
    result = load(tmp_path, HAVEN_MODE="production", HAVEN_SECRET_KEY="k" * 50)
    assert result.returncode != 0
    assert "HAVEN_ALLOWED_HOSTS" in result.stderr


def test_debug_is_impossible_in_production(tmp_path: Path) -> None:
    """HAVEN_DEBUG=1 is ignored in production; secure cookies and HSTS are on."""
    result = load(
        tmp_path,
        HAVEN_MODE="production",
        HAVEN_SECRET_KEY="k" * 50,
        HAVEN_ALLOWED_HOSTS="haven.example",
        HAVEN_DEBUG="1",
        HAVEN_ENCRYPTION_KEYS="x" * 43 + "=",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/haven",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["debug"] is False
    assert values["secure"] is True
    assert values["hsts"] > 0
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["layer"] == "haven.core.layers.RedisChannelLayer"
    assert values["hosts"] == ["haven.example"]


def test_unknown_mode_is_refused(tmp_path: Path) -> None:
    result = load(tmp_path, HAVEN_MODE="staging")
    assert result.returncode != 0
    assert "HAVEN_MODE" in result.stderr


def test_the_suite_runs_on_the_backends_it_claims(settings) -> None:  # type: ignore[no-untyped-def]
    """The services run (HAVEN_EXPECT_SERVICES=1) must not quietly fall back to SQLite and
    memory; the embedded run must be on them."""
    from django.db import connection

    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    if os.environ.get("HAVEN_EXPECT_SERVICES") == "1":
        assert connection.vendor == "postgresql"
        assert layer == "haven.core.layers.RedisChannelLayer"
    else:
        assert connection.vendor == "sqlite"
        assert layer == "haven.core.layers.LocalChannelLayer"


def test_check_deploy_passes_in_production_mode(tmp_path: Path) -> None:
    """Django's deployment checklist finds nothing to warn about in production mode."""
    from cryptography.fernet import Fernet

    result = run_haven(
        tmp_path,
        ["-m", "haven.cli", "check", "--deploy", "--fail-level", "WARNING"],
        HAVEN_MODE="production",
        HAVEN_SECRET_KEY="a-long-random-production-key-" + "x9Q" * 20,
        HAVEN_ALLOWED_HOSTS="haven.example",
        HAVEN_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/haven",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
