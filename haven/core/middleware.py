"""HTTP headers that keep the visitor's browser talking to Haven only."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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

    ``no-store`` matters on a watched phone: the browser keeps no copy of a chat page on
    disk or in the back/forward cache.

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
        if not request.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store, max-age=0"
        if STAFF_PATH.match(request.path):
            response.headers["Referrer-Policy"] = "same-origin"
        return response
