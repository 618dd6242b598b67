"""Reads of messages left for later. Permission-checked fetches go through ``access_letter``."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet

from haven.accounts.permissions import can
from haven.accounts.roles import Action
from haven.letters.models import Letter, LetterEntry

# The answered letters the list shows (newest first): older ones are found with their code
# by the visitor, not by browsing.
ANSWERED_SHOWN = 50


def access_letter(actor: Any, letter_id: uuid.UUID | str) -> Letter | None:
    """The letter if ``actor`` may read it (anyone who uses the console: letters are not
    assigned, whoever is on duty answers), else None: missing and forbidden alike."""
    if not can(actor, Action.USE_CONSOLE):
        return None
    try:
        return Letter.objects.filter(pk=letter_id, purged_at__isnull=True).first()
    except (ValueError, TypeError):
        return None


def awaiting_count() -> int:
    return Letter.objects.filter(awaiting_reply=True, purged_at__isnull=True).count()


def awaiting() -> QuerySet[Letter]:
    """Letters waiting for an answer, the longest-waiting first."""
    return Letter.objects.filter(awaiting_reply=True, purged_at__isnull=True).order_by("last_at")


def answered() -> QuerySet[Letter]:
    """The most recently answered letters."""
    return Letter.objects.filter(awaiting_reply=False, purged_at__isnull=True).order_by("-last_at")[
        :ANSWERED_SHOWN
    ]


def entries(letter: Letter) -> list[LetterEntry]:
    return list(LetterEntry.objects.filter(letter=letter).order_by("seq"))


def thread(letter: Letter) -> dict[str, Any]:
    """What the visitor's page shows of a letter: its entries and whether it waits."""
    return {
        "awaiting_reply": letter.awaiting_reply,
        "entries": [
            {
                "seq": entry.seq,
                "sender": entry.sender,
                "text": entry.text,
                "sent_at": entry.created_at.isoformat(),
            }
            for entry in entries(letter)
        ],
    }
