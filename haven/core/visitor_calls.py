"""What the visitor page's JSON calls share (haven.letters.views, haven.feedback.views).

They carry no cookie and no session, so there is nothing a forged cross-site request could
ride on; they still take ``application/json`` only, which a cross-site form cannot send
(and a cross-site script could only after a CORS preflight, which Haven never answers).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _

from haven.chat.services import ChatError, SlowDown


def json_body(request: HttpRequest) -> dict[str, Any] | None:
    """The request's JSON object, or None for anything else (another content type too)."""
    if request.content_type != "application/json":
        return None
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def text_field(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    return value if isinstance(value, str) else ""


def refusal(exc: ChatError) -> JsonResponse:
    """A service's refusal, in calm words for the visitor (its code for the script)."""
    status = 429 if isinstance(exc, SlowDown) or exc.code == "unavailable" else 400
    return JsonResponse({"error": exc.code, "message": exc.message}, status=status)


def bad_request() -> JsonResponse:
    return JsonResponse(
        {"error": "bad_request", "message": _("Something went wrong. Try again.")}, status=400
    )


async def answer(
    request: HttpRequest, run: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
) -> JsonResponse:
    """The whole of a call: the JSON body given to ``run`` (a service called through
    haven.core.db), its result as JSON, or the refusal in calm words."""
    data = json_body(request)
    if data is None:
        return bad_request()
    try:
        return JsonResponse(await run(data))
    except ChatError as exc:
        return refusal(exc)
