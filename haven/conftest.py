"""Fixtures shared by every test.

Services such as PostgreSQL, Redis and Chromium: a test that needs one and cannot reach it
is skipped on a developer's machine (saying why) but fails when ``CI=true``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers, get_channel_layer

from haven.core import clock as clock_module

IN_CI = os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason: str) -> None:
    """Skip locally, fail in CI: a missing service must never pass CI silently."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this must not be skipped)")
    pytest.skip(reason)


@dataclass
class Clock:
    """A controllable clock for tests; see :mod:`haven.core.clock`."""

    moment: dt.datetime

    def advance(self, **delta: float) -> dt.datetime:
        self.moment = self.moment + dt.timedelta(**delta)
        clock_module.set_frozen(self.moment)
        return self.moment


@pytest.fixture
def clock() -> Iterator[Clock]:
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    clock_module.set_frozen(start)
    try:
        yield Clock(start)
    finally:
        clock_module.set_frozen(None)


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> Iterator[None]:
    """Every test starts with an empty channel layer (no groups left by another test)."""
    channel_layers.backends.clear()
    yield
    layer = get_channel_layer()
    if layer is not None and hasattr(layer, "flush"):
        async_to_sync(layer.flush)()
    channel_layers.backends.clear()


@pytest.fixture
def make_counsellor(db: None):  # type: ignore[no-untyped-def]
    from haven.accounts.services import counsellor_create

    counter = iter(range(1, 1000))

    def make(username: str | None = None):  # type: ignore[no-untyped-def]
        name = username or f"counsellor{next(counter)}"
        return counsellor_create(username=name, password="a long test password 42")

    return make


@pytest.fixture
def counsellor(make_counsellor):  # type: ignore[no-untyped-def]
    return make_counsellor("anna")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    """Tests create many accounts; a slow hash would only slow the suite down."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def sign_in_fully(client, user):  # type: ignore[no-untyped-def]
    """Sign ``user`` in on the test client with a passed second factor, as the login and
    two-factor pages would. Returns the session key."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from haven.accounts.models import SealedTOTPDevice

    client.force_login(user)
    device = SealedTOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = SealedTOTPDevice.with_new_key(user=user, name="test", confirmed=True)
        device.save()
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return session.session_key


@pytest.fixture
def make_staff(db: None):  # type: ignore[no-untyped-def]
    """Make a staff account with the given roles (names like "counsellor", "analyst")."""
    from haven.accounts.roles import Role
    from haven.accounts.services import staff_create

    def make(username: str, *roles: str):  # type: ignore[no-untyped-def]
        return staff_create(
            username=username,
            password="a long test password 42",
            roles=[Role(role) for role in roles],
        )

    return make


# One fixed key for every test run: runs on a shared database never meet rows written
# under another run's generated key.
TEST_ENCRYPTION_KEY = "bG9uZy10ZXN0LWtleS1mb3ItaGF2ZW4tdGVzdHMtMzI="


@pytest.fixture(autouse=True)
def _fixed_encryption_key(settings) -> None:  # type: ignore[no-untyped-def]
    settings.HAVEN_ENCRYPTION_KEYS = [TEST_ENCRYPTION_KEY]


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Counters (sign-in failures, abuse limits) never carry over from one test to another."""
    from django.core.cache import cache

    from haven.core import abuse

    cache.clear()
    abuse.clear()
    yield
    cache.clear()
    abuse.clear()


@pytest.fixture(autouse=True)
def _database_threads() -> Iterator[None]:
    """Haven's database threads (haven/core/db.py) end with each test, closing their
    connections, so none outlives the test database or sees another test's rows."""
    yield
    from haven.core import db

    db.stop()
