"""Reads. Permission-checked fetches go through ``access_conversation`` only."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Case, Count, F, Min, OuterRef, Q, QuerySet, Subquery, Value, When

from haven.accounts.permissions import can
from haven.accounts.roles import Action
from haven.chat import danger, hours, waits
from haven.chat.events import (
    ConsoleConversation,
    MessagePayload,
    QueueEntry,
    StaffNotePayload,
    message_payload,
)
from haven.chat.models import (
    ConsolePresence,
    Conversation,
    CounsellorAvailability,
    DangerTerm,
    Message,
    OpeningException,
    OpeningHours,
    StaffNote,
)
from haven.core import clock

PREVIEW_LENGTH = 140


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def can_counsel(user: Any) -> bool:
    """Whether ``user``'s role lets them use the console (counsellor or supervisor)."""
    return can(user, Action.USE_CONSOLE)


def access_conversation(actor: Any, conversation_id: uuid.UUID | str) -> Conversation | None:
    """The conversation if ``actor`` may see it, else ``None``: missing and forbidden alike.

    A counsellor may read any conversation still in the queue (to see what the visitor has
    written while waiting) and the conversations assigned to them; a supervisor may read
    every conversation; nobody else any.
    """
    if not can_counsel(actor):
        return None
    try:
        conversation = Conversation.objects.get(pk=conversation_id)
    except (Conversation.DoesNotExist, ValueError, ValidationError):
        return None
    if conversation.status == Conversation.Status.WAITING:
        return conversation
    if conversation.counsellor_id == actor.id:
        return conversation
    if can(actor, Action.READ_ANY_TRANSCRIPT):
        return conversation
    return None


def live_conversations() -> list[ConsoleConversation]:
    """Every active conversation, for supervisors (no unread counts: they only read along)."""
    return [
        console_conversation(c, unread=0)
        for c in Conversation.objects.filter(status=Conversation.Status.ACTIVE)
        .select_related("counsellor")
        .order_by("accepted_at")
    ]


def conversation_for_token(token: str) -> Conversation | None:
    """The visitor's conversation for the secret token their browser holds."""
    return Conversation.objects.filter(token_hash=token_hash(token)).first()


def messages_after(conversation: Conversation, last_seq: int) -> list[MessagePayload]:
    """The stream after ``last_seq``, in order: what a resuming client has not seen."""
    return [
        message_payload(message)
        for message in Message.objects.filter(conversation=conversation, seq__gt=last_seq).order_by(
            "seq"
        )
    ]


# The queue's order: conversations raised by the team's danger terms first, then the
# rest; within each, the one that waits longest first (started first, then by id).
QUEUE_ORDER = (
    Case(When(danger_at__isnull=False, then=Value(0)), default=Value(1)),
    "created_at",
    "id",
)


def queue_position(conversation: Conversation) -> int:
    """1 for the conversation first in the queue's order (:data:`QUEUE_ORDER`), 2 for the
    next, … One count."""
    earlier = Q(created_at__lt=conversation.created_at) | Q(
        created_at=conversation.created_at, id__lt=conversation.id
    )
    raised = Q(danger_at__isnull=False)
    ahead = raised & earlier if conversation.danger_at is not None else raised | earlier
    return Conversation.objects.filter(status=Conversation.Status.WAITING).filter(ahead).count() + 1


def accepted_lately() -> int:
    """How many conversations were accepted in the last hour (the queue's pace, for the
    estimated wait: haven.chat.waits). One count over an index."""
    since = clock.now() - dt.timedelta(seconds=waits.WINDOW_SECONDS)
    return Conversation.objects.filter(accepted_at__gte=since).count()


def waiting_order_and_pace() -> tuple[list[str], int, bool]:
    """The queue's order (as :func:`waiting_order`), its pace (:func:`accepted_lately`) and
    whether anybody watches it (:func:`queue_watched`), for the keeper that tells waiting
    visitors their place and wait."""
    return waiting_order(), accepted_lately(), queue_watched()


def open_consoles() -> QuerySet[ConsolePresence]:
    """The consoles open now: heard of within HAVEN_CONSOLE_PRESENCE_SECONDS."""
    since = clock.now() - dt.timedelta(seconds=settings.HAVEN_CONSOLE_PRESENCE_SECONDS)
    return ConsolePresence.objects.filter(seen_at__gte=since)


def queue_watched() -> bool:
    """Whether a console of an available counsellor is open somewhere (:func:`open_consoles`):
    if not, nobody will take a new conversation, and waiting visitors are told so. (A
    counsellor at their limit still counts: they see the queue and take the next one when a
    conversation ends.)"""
    away = CounsellorAvailability.objects.filter(available=False).values("user_id")
    return open_consoles().exclude(user_id__in=away).exists()


def availability_of(user: Any) -> tuple[bool, int | None]:
    """(available, max_chats) as the counsellor set them; (True, None) if never set."""
    row = CounsellorAvailability.objects.filter(user_id=user.pk).first()
    return (True, None) if row is None else (row.available, row.max_chats)


def schedule() -> hours.Schedule:
    """The opening hours as administrators set them (two small reads)."""
    weekly: dict[int, list[hours.Span]] = {}
    for row in OpeningHours.objects.all():
        weekly.setdefault(row.weekday, []).append(hours.Span(row.opens_at, row.closes_at))
    exceptions: dict[dt.date, list[hours.Span]] = {}
    for day in OpeningException.objects.filter(date__gte=clock.now().date() - dt.timedelta(days=1)):
        spans = exceptions.setdefault(day.date, [])
        if not day.closed and day.opens_at is not None and day.closes_at is not None:
            spans.append(hours.Span(day.opens_at, day.closes_at))
    return hours.Schedule(zone=ZoneInfo(settings.TIME_ZONE), weekly=weekly, exceptions=exceptions)


def waiting_order() -> list[str]:
    """The ids of the waiting conversations in queue order (ids only: nothing decrypted)."""
    return [
        str(pk)
        for pk in Conversation.objects.filter(status=Conversation.Status.WAITING)
        .order_by(*QUEUE_ORDER)
        .values_list("pk", flat=True)
    ]


def absence_cutoff() -> dt.datetime:
    """Waiting visitors last seen before this have left (HAVEN_QUEUE_ABSENCE_SECONDS)."""
    return clock.now() - dt.timedelta(seconds=settings.HAVEN_QUEUE_ABSENCE_SECONDS)


def absent_waiting() -> list[uuid.UUID]:
    """The waiting conversations whose visitor has left (see absence_cutoff)."""
    cutoff = absence_cutoff()
    return list(
        Conversation.objects.filter(status=Conversation.Status.WAITING)
        .filter(
            Q(visitor_seen_at__lt=cutoff) | Q(visitor_seen_at__isnull=True, created_at__lt=cutoff)
        )
        .values_list("pk", flat=True)
    )


def waiting_queue() -> list[QueueEntry]:
    """The queue as the console shows it, oldest first, with the visitor's latest words."""
    latest_text = (
        Message.objects.filter(conversation=OuterRef("pk"), sender=Message.Sender.VISITOR)
        .order_by("-seq")
        .values("text")[:1]
    )
    waiting = (
        Conversation.objects.filter(status=Conversation.Status.WAITING)
        .order_by(*QUEUE_ORDER)
        .annotate(
            message_count=Count("messages", filter=Q(messages__sender=Message.Sender.VISITOR)),
            latest_text=Subquery(latest_text),
        )
    )
    return [
        {
            "conversation": str(conversation.id),
            "waiting_since": conversation.created_at.isoformat(),
            "message_count": conversation.message_count,  # type: ignore[attr-defined]
            "preview": shorten(conversation.latest_text or ""),  # type: ignore[attr-defined]
            "seq": conversation.last_seq,
            "number": conversation.day_number,
            "language": conversation.language,
            "returning": conversation.returning,
            "danger": conversation.danger_at is not None,
        }
        for conversation in waiting
    ]


def counsellor_conversations(user: Any) -> list[ConsoleConversation]:
    """The conversations a counsellor holds now, with their unread counts."""
    conversations = (
        Conversation.objects.filter(counsellor=user, status=Conversation.Status.ACTIVE)
        .select_related("counsellor")
        .order_by("accepted_at")
        .annotate(
            unread=Count(
                "messages",
                filter=Q(
                    messages__sender=Message.Sender.VISITOR,
                    messages__seq__gt=F("counsellor_read_seq"),
                ),
            )
        )
    )
    return [console_conversation(c, unread=c.unread) for c in conversations]  # type: ignore[attr-defined]


def console_conversation(conversation: Conversation, *, unread: int) -> ConsoleConversation:
    return {
        "conversation": str(conversation.id),
        "status": conversation.status,
        "started_at": conversation.created_at.isoformat(),
        "last_seq": conversation.last_seq,
        "unread": unread,
        "number": conversation.day_number,
        "language": conversation.language,
        "returning": conversation.returning,
        "counsellor": conversation.counsellor.get_username() if conversation.counsellor else "",
        "urgent": conversation.urgent_at is not None,
        "danger": conversation.danger_at is not None,
    }


def unread_count(conversation: Conversation) -> int:
    return conversation.messages.filter(
        sender=Message.Sender.VISITOR, seq__gt=conversation.counsellor_read_seq
    ).count()


def shorten(text: str) -> str:
    """A preview: white space collapsed, at most PREVIEW_LENGTH characters."""
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_LENGTH else text[: PREVIEW_LENGTH - 1] + "…"


def queue_figures() -> tuple[int, float, int]:
    """For /metrics, in one query: how many wait, how long the first has waited (seconds,
    0 with an empty queue), how many conversations are live."""
    figures = Conversation.objects.aggregate(
        waiting=Count("pk", filter=Q(status=Conversation.Status.WAITING)),
        first=Min("created_at", filter=Q(status=Conversation.Status.WAITING)),
        live=Count("pk", filter=Q(status=Conversation.Status.ACTIVE)),
    )
    first = figures["first"]
    longest = max(0.0, (clock.now() - first).total_seconds()) if first is not None else 0.0
    return int(figures["waiting"]), longest, int(figures["live"])


def staff_note_payload(note: StaffNote) -> StaffNotePayload:
    return {
        "id": note.pk,
        "kind": note.kind,
        "author": note.author.get_username() if note.author is not None else "",
        "to": note.to.get_username() if note.to is not None else "",
        "text": note.text,
        "sent_at": note.created_at.isoformat(),
    }


def staff_notes(conversation: Conversation, *, whispers: bool) -> list[StaffNotePayload]:
    """A conversation's staff notes, oldest first: the transfer notes, and the whispers too
    when ``whispers`` (its counsellor and supervisors; a colleague reading it in the queue
    gets only what a transfer left for the next counsellor). Precondition: the reader may
    see the conversation (:func:`access_conversation`); the visitor's socket never calls
    this."""
    notes = StaffNote.objects.filter(conversation=conversation).select_related("author", "to")
    if not whispers:
        notes = notes.filter(kind=StaffNote.Kind.TRANSFER)
    return [staff_note_payload(note) for note in notes]


def transfer_candidates(actor: Any) -> list[dict[str, Any]]:
    """Colleagues a conversation could be handed to now: everyone else with a console open
    who may counsel, with whether they are available and how many conversations they hold
    (for the console's transfer list; the service checks again)."""
    from django.contrib.auth import get_user_model

    users = (
        get_user_model()
        .objects.filter(is_active=True, pk__in=open_consoles().values("user_id"))
        .exclude(pk=actor.pk)
        .order_by("username")
    )
    holding = dict(
        Conversation.objects.filter(status=Conversation.Status.ACTIVE, counsellor__in=users)
        .values_list("counsellor_id")
        .annotate(n=Count("id"))
    )
    rows = []
    for user in users:
        if not can_counsel(user):
            continue
        available, max_chats = availability_of(user)
        count = holding.get(user.pk, 0)
        rows.append(
            {
                "id": user.pk,
                "name": user.get_username(),
                "available": available and (max_chats is None or count < max_chats),
                "chats": count,
            }
        )
    return rows


# This process's compiled danger terms and when they were read (time.monotonic()). Read
# again at most every HAVEN_DANGER_TERMS_REFRESH_SECONDS, so that a change made on another
# worker holds here within that time, at the cost of one small query per period (in the
# writer, never per message).
_danger_cache: tuple[float, re.Pattern[str] | None] | None = None


def danger_pattern() -> re.Pattern[str] | None:
    """The team's danger terms as one pattern (haven.chat.danger), None when there are none."""
    global _danger_cache
    now = time.monotonic()
    if (
        _danger_cache is None
        or now - _danger_cache[0] > settings.HAVEN_DANGER_TERMS_REFRESH_SECONDS
    ):
        terms = DangerTerm.objects.values_list("term", flat=True)
        _danger_cache = (now, danger.compile_terms(list(terms)))
    return _danger_cache[1]


def danger_terms_forget() -> None:
    """Read the terms again at the next message (after a change on this worker)."""
    global _danger_cache
    _danger_cache = None


def danger_terms() -> list[str]:
    """The team's danger terms, as they wrote them (for the supervisors' page)."""
    return list(DangerTerm.objects.values_list("term", flat=True))


def console_open(user: Any) -> bool:
    """Whether ``user`` has a console open now (:func:`open_consoles`)."""
    return open_consoles().filter(user_id=user.pk).exists()


def visitor_words(conversation: Conversation) -> tuple[int, str]:
    """How many messages the visitor wrote in one conversation, and their latest words (for
    its queue entry when it goes back in the queue). Two small reads of one conversation."""
    written = Message.objects.filter(conversation=conversation, sender=Message.Sender.VISITOR)
    latest = written.order_by("-seq").values_list("text", flat=True).first()
    return written.count(), latest or ""
