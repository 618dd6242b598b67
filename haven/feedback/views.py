"""The visitor page's call to give feedback after a chat (JSON, no cookie, as the calls of
haven.letters.views, for the same reasons)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from haven.core import db
from haven.core.sources import source_of
from haven.core.visitor_calls import answer, text_field
from haven.feedback import services


@csrf_exempt
@require_POST
async def give(request: HttpRequest) -> JsonResponse:
    """``{"helped", "come_back"}`` → ``{"ok": true}``."""

    async def run(data: dict[str, Any]) -> dict[str, Any]:
        await db.write(
            services.feedback_give,
            helped=text_field(data, "helped"),
            come_back=text_field(data, "come_back"),
            source=source_of(request),
        )
        return {"ok": True}

    return await answer(request, run)
