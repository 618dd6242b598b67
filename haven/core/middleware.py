"""HTTP headers that keep the visitor's browser talking to Haven only, and the probes that
answer before any of the rest."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

# Answered by ProbeMiddleware, ahead of the rest of the stack (names in haven/urls.py).
PROBES = frozenset({"healthz", "livez", "metrics"})

# Everything a page loads comes from Haven itself; no inline script or style is allowed,
# so an injected <script> or onerror= attribute cannot run even if it ever reached the DOM.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
STAFF_PATH = re.compile(r"^/(?:[a-z]{2}/)?(?:console|admin)(?:/|$)")
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
    "interest-cohort=(), browsing-topics=()"
)


class PrivacyHeadersMiddleware:
    """Set CSP and Permissions-Policy everywhere; forbid caching of every page.

    ``no-store`` matters on a watched phone: the browser keeps no copy of a chat page, nor
    of a script or stylesheet, on disk or in the back/forward cache.

    Visitor pages send no referrer at all. Staff pages (console, admin) post forms, and a
    browser sends ``Origin: null`` with a POST under ``no-referrer``, which Django's CSRF
    origin check rightly refuses; there the policy is ``same-origin``, which still tells
    no other site anything.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        # Static files too: a stylesheet in the disk cache under Haven's address tells
        # whoever checks the phone that Haven was opened. They are small; a visit loads
        # them again.
        response.headers["Cache-Control"] = "no-store, max-age=0"
        if STAFF_PATH.match(request.path):
            response.headers["Referrer-Policy"] = "same-origin"
        return response


class ProbeMiddleware:
    """``/healthz``, ``/livez`` and ``/metrics``, answered before every other middleware.

    Their callers are the proxy, systemd and a monitoring system on the worker's own
    internal address (``http://10.0.0.11:8000/healthz``), in plain HTTP and with that
    address as the Host: in production the rest of the stack would answer them with a
    redirect to https or a 400 for a host not in ``ALLOWED_HOSTS``. They build no URL and
    read no session or cookie, so the host check and the redirect protect nothing here; and
    a probe every few seconds does not need the session and second-factor middleware.
    Precondition: first in ``MIDDLEWARE``; the probe views are async.
    """

    sync_capable = False
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Awaitable[HttpResponse]]) -> None:
        assert iscoroutinefunction(get_response)
        self.get_response = get_response
        markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.lstrip("/") in PROBES:
            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
            if match is not None and match.url_name in PROBES:
                response: HttpResponse = await match.func(request, *match.args, **match.kwargs)
                response.headers["Cache-Control"] = "no-store, max-age=0"
                return response
        return await self.get_response(request)
