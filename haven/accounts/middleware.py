"""Staff pages answer only sessions that passed the second factor and were not revoked."""

from __future__ import annotations

import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.cookie import parse_cookie
from django_otp import DEVICE_ID_SESSION_KEY, user_has_device

from haven.accounts.permissions import (
    SESSION_EPOCH_KEY,
    legacy_device_replacement,
    session_epoch,
    verified_device,
)
from haven.core.middleware import STAFF_PATH

# Pages a signed-in person must reach before the second factor: signing in and out, and
# the second factor itself.
OPEN_PATH = re.compile(
    r"^/(?:[a-z]{2}/)?(?:console/(?:login|logout|two-factor)|admin/(?:login|logout))(?:/|$)"
)


class LegacyDeviceMiddleware:
    """A session verified before accounts migration 0003 names a django-otp device that is
    gone; point it at the sealed device that replaced it (see permissions), so that the
    migration signs nobody out. Must run before django-otp's OTPMiddleware, which forgets
    a device it cannot find. Reads only the session, never the user."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Only where a session cookie came: reading an empty session would still mark it
        # accessed (and add "Vary: Cookie" to a visitor's page).
        session = getattr(request, "session", None)
        if session is None or settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return self.get_response(request)
        persistent_id = session.get(DEVICE_ID_SESSION_KEY)
        if persistent_id:
            legacy_device_replacement(session, persistent_id)
        return self.get_response(request)


class StaffSecurityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        path = request.path
        if (
            user is not None
            and user.is_authenticated
            and STAFF_PATH.match(path)
            and not OPEN_PATH.match(path)
        ):
            if request.session.get(SESSION_EPOCH_KEY, 0) != session_epoch(user):
                # Signed out everywhere since this session began.
                logout(request)
                return HttpResponseRedirect("/console/login/?next=" + quote(path))
            if verified_device(user, request.session) is None:
                step = "" if user_has_device(user, confirmed=True) else "setup/"
                return HttpResponseRedirect(f"/console/two-factor/{step}?next=" + quote(path))
        return self.get_response(request)


class ConsoleSocketAuth:
    """ASGI middleware for the console's socket: its session and user, looked up once when
    it connects, in Haven's database threads.

    Channels' AuthMiddlewareStack does the same through its one shared thread, and wraps the
    socket's ``send`` so that every frame sent (hundreds a second to a busy console) first
    asks whether the session must be saved: the console never changes its session there.
    """

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        from haven.core import db

        cookies: dict[str, str] = {}
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                cookies.update(parse_cookie(value.decode("latin-1")))
        try:
            session, user = await db.read(
                _session_and_user, cookies.get(settings.SESSION_COOKIE_NAME)
            )
        except Exception as exc:
            from haven.core import outage

            if not outage.is_database_error(exc):
                raise
            # The database is away: refuse the handshake (never "signed out", which would
            # stop the console). The browser sees a dropped connection and tries again;
            # the outage is logged once by haven.core.db.
            await send({"type": "websocket.close", "code": 1011})
            return
        await self.app(dict(scope, session=session, user=user), receive, send)


def _session_and_user(session_key: str | None) -> tuple[Any, Any]:
    """The session of ``session_key`` (a new, empty one if there is none) and its user
    (AnonymousUser if it is not signed in), as Django's own middleware would find them."""
    from importlib import import_module

    from django.contrib.auth import get_user

    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    user = get_user(SimpleNamespace(session=store))  # type: ignore[arg-type]
    return store, user
