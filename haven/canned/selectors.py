"""Reads of canned responses."""

from __future__ import annotations

from typing import Any

from haven.accounts.permissions import can
from haven.accounts.roles import Action
from haven.canned.models import CannedResponse


def for_console() -> list[dict[str, str]]:
    """Every response, for the console's script to find by shortcut (few, and short)."""
    return [
        {
            "shortcut": response.shortcut,
            "language": response.language,
            "title": response.title,
            "text": response.text,
        }
        for response in CannedResponse.objects.all()
    ]


def access_canned(actor: Any, response_id: int) -> CannedResponse | None:
    """The response if ``actor`` may change it (supervisors), else None: missing and
    forbidden alike."""
    if not can(actor, Action.MANAGE_CANNED):
        return None
    return CannedResponse.objects.filter(pk=response_id).first()
