"""Sign-in throttling per account and per source, without revealing whether an account exists.

Failures are counted under a hash of the user name (lower-cased) and under the hashed
source; once either count reaches its limit, sign-in is refused for the rest of the window
with the same message for every name, existing or not.
"""

from __future__ import annotations

from django.conf import settings

from haven.core import limits


def is_locked(*, username: str, source: str | None) -> bool:
    if limits.exceeded(
        "login-account", username.lower(), limit=settings.HAVEN_LOGIN_FAILURES_PER_ACCOUNT
    ):
        return True
    return source is not None and limits.exceeded(
        "login-source", source, limit=settings.HAVEN_LOGIN_FAILURES_PER_SOURCE
    )


def record_failure(*, username: str, source: str | None) -> None:
    window = settings.HAVEN_LOGIN_LOCKOUT_SECONDS
    limits.hit("login-account", username.lower(), window=window)
    if source is not None:
        limits.hit("login-source", source, window=window)


def record_success(*, username: str) -> None:
    limits.reset("login-account", username.lower())
