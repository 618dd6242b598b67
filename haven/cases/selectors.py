"""Reads of coded cases. Permission-checked fetches go through ``access_case`` only."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet

from haven.accounts.permissions import can
from haven.accounts.roles import Action
from haven.cases.models import Case, CodingDraft
from haven.chat.models import Conversation, Message


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


def may_code(actor: Any, conversation: Conversation) -> bool:
    """Whether ``actor`` may code ``conversation`` (already fetched through
    ``access_conversation``)."""
    if conversation.counsellor_id is None:
        ended = conversation.status == Conversation.Status.ENDED
        return ended and can(actor, Action.REVIEW_CASES)
    return conversation.counsellor_id == actor.id or can(actor, Action.REVIEW_CASES)


def still_to_code(actor: Any) -> QuerySet[Conversation]:
    """Ended conversations nobody coded yet, oldest first, so nothing waits longest.

    A counsellor sees the ones they answered. A supervisor sees everyone's, and also the
    ones nobody answered in which the visitor wrote something: a visitor who told their
    story in the queue and left is a contact the figures should not lose. A chat that was
    opened and left without a word has nothing to code and is not listed."""
    if not can(actor, Action.USE_CONSOLE):
        return Conversation.objects.none()
    conversations = Conversation.objects.filter(
        status=Conversation.Status.ENDED, coded_at__isnull=True
    ).select_related("counsellor", "case")
    if can(actor, Action.REVIEW_CASES):
        visitor_wrote = Exists(
            Message.objects.filter(conversation=OuterRef("pk"), sender=Message.Sender.VISITOR)
        )
        conversations = conversations.filter(Q(counsellor__isnull=False) | Q(visitor_wrote))
    else:
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
