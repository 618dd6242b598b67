"""Reads of coded cases. Permission-checked fetches go through ``access_case`` only."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from haven.accounts.permissions import can
from haven.accounts.roles import Action
from haven.cases.models import Case, CodingDraft
from haven.chat.models import Conversation


def access_case(actor: Any, case_id: uuid.UUID | str) -> Case | None:
    """The case if ``actor`` may see its coded record, else ``None``: missing and forbidden
    alike. A supervisor sees every case; a counsellor the cases of conversations they
    counselled (so a returning visitor's earlier record); nobody else any single case."""
    try:
        case = Case.objects.get(pk=case_id)
    except (Case.DoesNotExist, ValueError, ValidationError):
        return None
    if can(actor, Action.REVIEW_CASES):
        return case
    if can(actor, Action.USE_CONSOLE) and case.conversations.filter(counsellor=actor).exists():
        return case
    return None


def any_case_stored() -> bool:
    """Whether the database holds any coded case, real or invented (for `demo-data`)."""
    return Case.objects.exists()


def still_to_code(actor: Any) -> QuerySet[Conversation]:
    """Ended conversations that a counsellor answered but nobody coded yet: the actor's own,
    or everyone's for a supervisor. Oldest first, so nothing waits longest."""
    if not can(actor, Action.USE_CONSOLE):
        return Conversation.objects.none()
    conversations = Conversation.objects.filter(
        status=Conversation.Status.ENDED, counsellor__isnull=False, coded_at__isnull=True
    ).select_related("counsellor", "case")
    if not can(actor, Action.REVIEW_CASES):
        conversations = conversations.filter(counsellor=actor)
    # "pk" only makes the order of equal end times stable between page loads.
    return conversations.order_by("ended_at", "pk")


def to_review(actor: Any) -> QuerySet[Case]:
    """Coded cases no supervisor has reviewed yet (supervisors only), oldest first."""
    if not can(actor, Action.REVIEW_CASES):
        return Case.objects.none()
    return Case.objects.filter(coded_at__isnull=False, reviewed_at__isnull=True).order_by(
        "coded_at"
    )


def draft_for(conversation: Conversation) -> dict[str, Any] | None:
    draft = CodingDraft.objects.filter(conversation=conversation).first()
    return None if draft is None else dict(draft.data)
