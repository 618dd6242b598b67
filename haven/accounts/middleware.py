"""Staff pages answer only sessions that passed the second factor and were not revoked."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django_otp import user_has_device

from haven.accounts.permissions import SESSION_EPOCH_KEY, session_epoch, verified_device
from haven.core.middleware import STAFF_PATH

# Pages a signed-in person must reach before the second factor: signing in and out, and
# the second factor itself.
OPEN_PATH = re.compile(
    r"^/(?:[a-z]{2}/)?(?:console/(?:login|logout|two-factor)|admin/(?:login|logout))(?:/|$)"
)


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
