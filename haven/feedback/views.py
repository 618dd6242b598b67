"""The visitor page's call to give feedback after a chat (JSON, no cookie, as the calls of
haven.letters.views, for the same reasons)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from haven.chat.services import ChatError
from haven.core import db
from haven.core.sources import source_of
from haven.core.visitor_calls import bad_request, json_body, refusal, text_field
from haven.feedback import services


@csrf_exempt
@require_POST
async def give(request: HttpRequest) -> JsonResponse:
    """``{"helped", "come_back"}`` → ``{"ok": true}``."""
    data = json_body(request)
    if data is None:
        return bad_request()
    try:
        await db.write(
            services.feedback_give,
            helped=text_field(data, "helped"),
            come_back=text_field(data, "come_back"),
            source=source_of(request),
        )
    except ChatError as exc:
        return refusal(exc)
    return JsonResponse({"ok": True})
