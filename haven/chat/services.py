"""Every write to a conversation. Each runs in one transaction and broadcasts after commit.

Preconditions that callers (consumers) have already checked are checked again here: a
service must be safe to call from anywhere.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from haven.accounts.permissions import can
from haven.accounts.roles import Action
from haven.audit.services import audit_record
from haven.chat import selectors
from haven.chat.events import (
    CONSOLE_GROUP,
    SUPERVISOR_GROUP,
    AssignedEvent,
    Event,
    LiveEvent,
    MessagePayload,
    QueueEvent,
    QueuePositionEvent,
    ReadEvent,
    TypingEvent,
    conversation_group,
    counsellor_group,
    message_event,
    state_event,
)
from haven.chat.models import Conversation, Message, TranscriptHold
from haven.core import clock, limits

logger = logging.getLogger(__name__)

# Control characters other than newline and tab are removed: they cannot be shown, and
# NUL cannot be stored in PostgreSQL at all. So are the bidirectional embedding, override
# and isolate controls (U+202A-U+202E, U+2066-U+2069): they can make text display in an
# order other than it was written (a message that seems to say something else). Right-to-
# left text itself, and the plain direction marks U+200E/U+200F, are kept.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


class ChatError(Exception):
    """A refusal the client is told about. ``message`` is translated and safe as text."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class MessageInvalid(ChatError):
    code = "invalid_message"


class ConversationClosed(ChatError):
    code = "conversation_ended"


class ConversationUnavailable(ChatError):
    code = "unavailable"


class NotFound(ChatError):
    code = "not_found"


class Refused(ChatError):
    """Abuse protection said no. The message is calm: the person may be a real victim."""

    code = "unavailable"


class SlowDown(ChatError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def clean_text(text: str) -> str:
    """Normalise line ends, drop control characters and surrounding white space."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_CHARACTERS.sub("", text).strip()


@transaction.atomic
def conversation_start(*, language: str, source: str | None = None) -> tuple[Conversation, str]:
    """Open a new anonymous conversation in the queue.

    Returns the conversation and the visitor's secret token; only its hash is stored.
    ``source`` is the visitor's hashed source (see haven.core.sources), used only for the
    abuse limits in the cache; it is never stored with the conversation.
    """
    if source is not None:
        if limits.is_marked("blocked-source", source):
            raise Refused(_("You cannot start a new chat right now. Please try again later."))
        started = limits.hit("starts", source, window=3600)
        if started > settings.HAVEN_STARTS_PER_SOURCE_PER_HOUR:
            raise Refused(_("You cannot start a new chat right now. Please try again later."))
    token = secrets.token_urlsafe(32)
    language = language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    conversation = Conversation.objects.create(
        token_hash=selectors.token_hash(token), language=language, created_at=clock.now()
    )
    if source is not None:
        conversation_visitor_seen(conversation_id=conversation.id, source=source)
    _broadcast_queue()
    return conversation, token


def conversation_visitor_seen(*, conversation_id: uuid.UUID, source: str) -> None:
    """Remember, in the cache only and for a day at most, which hashed source a conversation
    comes from, so that blocking the conversation can refuse that source new chats."""
    cache.set(
        f"conversation-source:{conversation_id}", source, timeout=settings.HAVEN_BLOCK_SECONDS
    )


@transaction.atomic
def message_send(
    *,
    conversation_id: uuid.UUID,
    sender: str,
    text: str,
    client_id: str,
    author: Any = None,
    source: str | None = None,
) -> Message:
    """Store a message and return it; it is broadcast once the transaction commits.

    Sending the same ``client_id`` again returns the stored message, so a client can resend
    anything it has no acknowledgement for without creating a duplicate.
    """
    if sender not in (Message.Sender.VISITOR, Message.Sender.COUNSELLOR):
        raise ValueError(f"Unknown sender {sender!r}")
    if not client_id:
        raise MessageInvalid(_("Something went wrong with this message."), code="bad_field")
    conversation = _lock(conversation_id)
    if sender == Message.Sender.COUNSELLOR and (
        author is None
        or conversation.counsellor_id != author.id
        or not selectors.can_counsel(author)
    ):
        raise NotFound(_("This conversation was not found."))
    existing = Message.objects.filter(
        conversation=conversation, sender=sender, client_id=client_id
    ).first()
    if existing is not None:
        return existing
    if conversation.status == Conversation.Status.ENDED:
        raise ConversationClosed(_("This chat has ended."))
    if sender == Message.Sender.COUNSELLOR and conversation.status != Conversation.Status.ACTIVE:
        raise ConversationUnavailable(_("Accept the conversation before you write."))
    if sender == Message.Sender.VISITOR:
        _check_visitor_pace(conversation.id, source)
    cleaned = clean_text(text)
    if not cleaned:
        raise MessageInvalid(_("The message is empty."), code="empty")
    limit = settings.HAVEN_MAX_MESSAGE_LENGTH
    if len(cleaned) > limit:
        raise MessageInvalid(
            _("The message is too long. You can use up to %(limit)s characters.")
            % {"limit": limit},
            code="too_long",
        )
    message = _append(
        conversation,
        sender=sender,
        kind=Message.Kind.TEXT,
        text=cleaned,
        client_id=client_id,
        author=author if sender == Message.Sender.COUNSELLOR else None,
    )
    if conversation.status == Conversation.Status.WAITING:
        _broadcast_queue()  # the queue shows how much a waiting visitor has written
    return message


@transaction.atomic
def conversation_accept(*, conversation_id: uuid.UUID, counsellor: Any) -> Conversation:
    """Give a waiting conversation to ``counsellor``.

    The status change is one conditional UPDATE, so when two counsellors accept at once
    exactly one row is changed; the other gets :class:`ConversationUnavailable`.
    """
    if not selectors.can_counsel(counsellor):
        raise NotFound(_("This conversation was not found."))
    now = clock.now()
    taken = Conversation.objects.filter(
        pk=conversation_id, status=Conversation.Status.WAITING
    ).update(status=Conversation.Status.ACTIVE, counsellor=counsellor, accepted_at=now)
    if not taken:
        if not Conversation.objects.filter(pk=conversation_id).exists():
            raise NotFound(_("This conversation was not found."))
        raise ConversationUnavailable(
            _("A colleague has already accepted this conversation, or the visitor has left.")
        )
    conversation = _lock(conversation_id)
    _append(conversation, sender=Message.Sender.SYSTEM, kind=Message.Kind.JOINED)
    _broadcast(
        conversation_group(conversation.id),
        state_event(conversation),
        counsellor_id=counsellor.id,
    )
    assigned: AssignedEvent = {
        "type": "assigned",
        "conversation": selectors.console_conversation(
            conversation, unread=selectors.unread_count(conversation)
        ),
    }
    _broadcast(counsellor_group(counsellor.id), assigned)
    _broadcast_queue()
    _broadcast_live()
    audit_record(
        actor=counsellor,
        action="conversation.accept",
        target_type="conversation",
        target_id=conversation.id,
    )
    return conversation


@transaction.atomic
def conversation_end(*, conversation_id: uuid.UUID, party: str, actor: Any = None) -> Conversation:
    """End a conversation, by the visitor or by its counsellor. Ending twice is harmless."""
    conversation = _lock(conversation_id)
    if party == Conversation.Party.COUNSELLOR:
        holds = (
            actor is not None
            and conversation.counsellor_id == actor.id
            and selectors.can_counsel(actor)
        )
        if not holds and not can(actor, Action.READ_ANY_TRANSCRIPT):
            raise NotFound(_("This conversation was not found."))
    elif party != Conversation.Party.VISITOR:
        raise ValueError(f"Unknown party {party!r}")
    if conversation.status == Conversation.Status.ENDED:
        return conversation
    was_waiting = conversation.status == Conversation.Status.WAITING
    conversation.status = Conversation.Status.ENDED
    conversation.ended_at = clock.now()
    conversation.ended_by = party
    conversation.save(update_fields=["status", "ended_at", "ended_by"])
    _append(conversation, sender=Message.Sender.SYSTEM, kind=Message.Kind.ENDED)
    _broadcast(conversation_group(conversation.id), state_event(conversation))
    if was_waiting:
        _broadcast_queue()
    else:
        _broadcast_live()
    return conversation


@transaction.atomic
def conversation_open(
    *, actor: Any, conversation_id: uuid.UUID, last_seq: int
) -> tuple[Conversation, list[MessagePayload]]:
    """A staff member reads a transcript (from ``last_seq`` on). Every read is audited,
    whatever ``last_seq`` the client chose."""
    conversation = selectors.access_conversation(actor, conversation_id)
    if conversation is None:
        raise NotFound(_("This conversation was not found."))
    audit_record(
        actor=actor,
        action="transcript.read",
        target_type="conversation",
        target_id=conversation.id,
        detail={"status": conversation.status, "from_seq": last_seq},
    )
    return conversation, selectors.messages_after(conversation, last_seq)


@transaction.atomic
def conversation_block(*, conversation_id: uuid.UUID, actor: Any) -> Conversation:
    """End an abusive conversation and refuse its (hashed) source new chats for a while.

    Only the counsellor holding it, or a supervisor. The visitor sees a calm "ended".
    """
    conversation = _lock(conversation_id)
    holds = conversation.counsellor_id == getattr(actor, "id", None)
    if not (holds and selectors.can_counsel(actor)) and not can(actor, Action.READ_ANY_TRANSCRIPT):
        raise NotFound(_("This conversation was not found."))
    source = cache.get(f"conversation-source:{conversation.id}")
    if source:
        limits.mark("blocked-source", source, seconds=settings.HAVEN_BLOCK_SECONDS)
    conversation.blocked = True
    conversation.save(update_fields=["blocked"])
    audit_record(
        actor=actor,
        action="conversation.block",
        target_type="conversation",
        target_id=conversation.id,
    )
    return conversation_end(
        conversation_id=conversation.id, party=Conversation.Party.COUNSELLOR, actor=actor
    )


@transaction.atomic
def conversation_mark_read(*, conversation_id: uuid.UUID, counsellor: Any, seq: int) -> int:
    """Record that the counsellor has seen the stream up to ``seq``; returns the new mark."""
    conversation = _lock(conversation_id)
    holds = conversation.counsellor_id == getattr(counsellor, "id", None)
    if not holds or not selectors.can_counsel(counsellor):
        raise NotFound(_("This conversation was not found."))
    mark = max(conversation.counsellor_read_seq, min(seq, conversation.last_seq))
    if mark != conversation.counsellor_read_seq:
        conversation.counsellor_read_seq = mark
        conversation.save(update_fields=["counsellor_read_seq"])
        event: ReadEvent = {"type": "read", "conversation": str(conversation.id), "seq": mark}
        _broadcast(counsellor_group(counsellor.id), event)
    return mark


async def conversation_typing(*, conversation_id: uuid.UUID, party: str) -> None:
    """Tell the other side someone is typing. Nothing is stored, so nothing waits for a commit.

    Async because it touches no database: called straight from a consumer's event loop.
    """
    event: TypingEvent = {
        "type": "typing",
        "conversation": str(conversation_id),
        "sender": party,
    }
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(
            conversation_group(conversation_id), {"type": "haven.event", "event": event, "meta": {}}
        )


@transaction.atomic
def conversation_mark_returning(*, conversation_id: uuid.UUID, case_id: uuid.UUID) -> None:
    """The visitor gave a valid return code: note it in the stream (both sides see that
    this is a returning visitor) and tell the console. Called by the return-code service,
    which has already linked the conversation to the case."""
    conversation = _lock(conversation_id)
    if conversation.case_id != case_id:
        raise ValueError("the conversation is not linked to that case")
    if not conversation.returning:
        conversation.returning = True
        conversation.save(update_fields=["returning"])
    _append(conversation, sender=Message.Sender.SYSTEM, kind=Message.Kind.RETURNED)
    if conversation.status == Conversation.Status.WAITING:
        _broadcast_queue()


# --- retention -----------------------------------------------------------------------------


def _may_hold(actor: Any, conversation: Conversation) -> bool:
    mine = conversation.counsellor_id is not None and conversation.counsellor_id == getattr(
        actor, "id", None
    )
    return (mine and selectors.can_counsel(actor)) or can(actor, Action.READ_ANY_TRANSCRIPT)


@transaction.atomic
def transcript_hold_place(
    *, actor: Any, conversation_id: uuid.UUID, reason: str, days: int | None = None
) -> TranscriptHold:
    """Keep one transcript past its retention period, for a reason, for ``days`` (default
    HAVEN_HOLD_DAYS, at most HAVEN_HOLD_MAX_DAYS). Its counsellor or a supervisor only,
    and only while the transcript still exists."""
    conversation = _lock(conversation_id)
    if not _may_hold(actor, conversation):
        raise NotFound(_("This conversation was not found."))
    if conversation.purged_at is not None:
        raise ConversationUnavailable(_("This transcript has already been deleted."))
    reason = clean_text(reason)
    if not reason:
        raise MessageInvalid(_("Give a reason for the hold."), code="bad_field")
    if len(reason) > 500:
        raise MessageInvalid(_("Keep the reason under 500 characters."), code="bad_field")
    days = settings.HAVEN_HOLD_DAYS if days is None else days
    if not 1 <= days <= settings.HAVEN_HOLD_MAX_DAYS:
        raise MessageInvalid(
            _("A hold lasts from 1 to %(max)s days.") % {"max": settings.HAVEN_HOLD_MAX_DAYS},
            code="bad_field",
        )
    now = clock.now()
    hold = TranscriptHold.objects.create(
        conversation=conversation,
        reason=reason,
        placed_by=actor,
        placed_at=now,
        expires_at=now + dt.timedelta(days=days),
    )
    audit_record(
        actor=actor,
        action="transcript.hold",
        target_type="conversation",
        target_id=conversation.id,
        detail={"hold": hold.id, "days": days},
    )
    return hold


@transaction.atomic
def transcript_hold_release(*, actor: Any, hold_id: int) -> TranscriptHold:
    """End a hold early. The transcript is then deleted by the next run of the job if its
    retention period has passed."""
    hold = TranscriptHold.objects.select_related("conversation").filter(pk=hold_id).first()
    if hold is None or not _may_hold(actor, hold.conversation):
        raise NotFound(_("This hold was not found."))
    if hold.released_at is None:
        hold.released_at = clock.now()
        hold.released_by = actor
        hold.save(update_fields=["released_at", "released_by"])
        audit_record(
            actor=actor,
            action="transcript.hold_release",
            target_type="conversation",
            target_id=hold.conversation_id,
            detail={"hold": hold.id},
        )
    return hold


@dataclass(frozen=True)
class PurgeResult:
    purged: int  # transcripts deleted
    messages: int  # messages deleted with them
    held: int  # transcripts past their period but kept by a hold
    closed: int  # abandoned conversations ended by the job


def transcripts_purge(*, retention_days: int | None = None) -> PurgeResult:
    """Delete the messages of every conversation whose retention period has passed, unless
    a hold keeps it; the conversation row and its coded case stay. The reasons written on
    its (expired or released) holds are deleted with it.

    The period runs from the end of the conversation. A conversation that never ended (a
    visitor who left while waiting, a chat left open) counts from its last message: once
    that is older than the period it is ended by the job and deleted the same way, so no
    transcript outlives the period by being forgotten.

    Each conversation is purged in its own short transaction, so a long run never blocks
    the chat. Safe to run at any time and as often as wanted (idempotent).
    """
    days = settings.HAVEN_TRANSCRIPT_RETENTION_DAYS if retention_days is None else retention_days
    now = clock.now()
    cutoff = now - dt.timedelta(days=days)
    last_message = (
        Message.objects.filter(conversation=OuterRef("pk"))
        .order_by("-seq")
        .values("created_at")[:1]
    )
    active_hold = TranscriptHold.objects.filter(
        conversation=OuterRef("pk"), released_at__isnull=True, expires_at__gt=now
    )
    due = (
        Conversation.objects.filter(purged_at__isnull=True)
        .annotate(last_at=Coalesce(Subquery(last_message), F("created_at")))
        .filter(
            Q(status=Conversation.Status.ENDED, ended_at__lt=cutoff)
            | (~Q(status=Conversation.Status.ENDED) & Q(last_at__lt=cutoff))
        )
    )
    held = due.filter(Exists(active_hold)).count()
    purged = messages = closed = 0
    for conversation_id in list(due.exclude(Exists(active_hold)).values_list("pk", flat=True)):
        with transaction.atomic():
            try:
                conversation = _lock(conversation_id)
            except NotFound:
                continue
            # Checked again under the lock: since the list was made, a visitor may have
            # written in a conversation left open, or someone may have placed a hold.
            if not _purge_due(conversation, cutoff=cutoff, now=now):
                continue
            if conversation.status != Conversation.Status.ENDED:
                conversation.status = Conversation.Status.ENDED
                conversation.ended_at = now
                conversation.ended_by = Conversation.Party.SYSTEM
                closed += 1
                _broadcast(conversation_group(conversation.id), state_event(conversation))
            deleted, _by_model = Message.objects.filter(conversation=conversation).delete()
            # A hold's reason is staff's words about this victim: it goes with the
            # transcript. The hold itself (who, when, until when) stays as history.
            TranscriptHold.objects.filter(conversation=conversation).exclude(reason="").update(
                reason=""
            )
            conversation.purged_at = now
            conversation.save(update_fields=["status", "ended_at", "ended_by", "purged_at"])
            purged += 1
            messages += deleted
    if purged or closed:
        _broadcast_queue()
        _broadcast_live()
    result = PurgeResult(purged=purged, messages=messages, held=held, closed=closed)
    audit_record(
        actor=None,
        action="transcripts.purge",
        detail={
            "retention_days": days,
            "purged": purged,
            "messages": messages,
            "held": held,
            "closed": closed,
        },
    )
    return result


def _purge_due(conversation: Conversation, *, cutoff: dt.datetime, now: dt.datetime) -> bool:
    """Whether a locked conversation's transcript is to be deleted now (see
    :func:`transcripts_purge`)."""
    if conversation.purged_at is not None:
        return False
    if conversation.status == Conversation.Status.ENDED:
        if conversation.ended_at is None or conversation.ended_at >= cutoff:
            return False
    else:
        last = (
            Message.objects.filter(conversation=conversation)
            .order_by("-seq")
            .values_list("created_at", flat=True)
            .first()
        )
        if (last or conversation.created_at) >= cutoff:
            return False
    return not TranscriptHold.objects.filter(
        conversation=conversation, released_at__isnull=True, expires_at__gt=now
    ).exists()


# --- helpers -------------------------------------------------------------------------------


def _check_visitor_pace(conversation_id: uuid.UUID, source: str | None) -> None:
    """Across all connections: messages per conversation, and per hashed source, per minute."""
    slow = _("You are sending very quickly. Wait a moment; your message will be sent.")
    if (
        limits.hit("messages-conversation", str(conversation_id), window=60)
        > settings.HAVEN_MESSAGES_PER_CONVERSATION_PER_MINUTE
    ):
        raise SlowDown(slow, retry_after=10.0)
    if (
        source is not None
        and limits.hit("messages-source", source, window=60)
        > settings.HAVEN_MESSAGES_PER_SOURCE_PER_MINUTE
    ):
        raise SlowDown(slow, retry_after=10.0)


def _lock(conversation_id: uuid.UUID) -> Conversation:
    """Fetch and lock the conversation row for the rest of the transaction.

    PostgreSQL locks the row; SQLite runs write transactions one at a time (IMMEDIATE).
    """
    try:
        return Conversation.objects.select_for_update().get(pk=conversation_id)
    except Conversation.DoesNotExist as exc:
        raise NotFound(_("This conversation was not found.")) from exc


def _append(
    conversation: Conversation,
    *,
    sender: str,
    kind: str,
    text: str = "",
    client_id: str = "",
    author: Any = None,
) -> Message:
    """Append to the stream. Precondition: ``conversation`` is locked by this transaction."""
    conversation.last_seq += 1
    conversation.save(update_fields=["last_seq"])
    message = Message.objects.create(
        conversation=conversation,
        seq=conversation.last_seq,
        sender=sender,
        kind=kind,
        text=text,
        client_id=client_id,
        author=author,
        created_at=clock.now(),
    )
    _broadcast(conversation_group(conversation.id), message_event(message))
    return message


def _broadcast(group: str, event: Event, **meta: Any) -> None:
    """Send ``event`` to ``group`` once the current transaction has committed.

    ``meta`` travels with the event for consumers to act on and is never sent to a client.
    A failing channel layer loses only the live push: the message is stored, and every
    client catches up when it resumes.
    """

    def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(
                group, {"type": "haven.event", "event": event, "meta": meta}
            )

    transaction.on_commit(send, robust=True)


def _broadcast_live() -> None:
    """After commit: every live conversation, to the supervisors' consoles."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        event: LiveEvent = {"type": "live", "conversations": selectors.live_conversations()}
        async_to_sync(layer.group_send)(
            SUPERVISOR_GROUP, {"type": "haven.event", "event": event, "meta": {}}
        )

    transaction.on_commit(send, robust=True)


def _broadcast_queue() -> None:
    """After commit: the queue to every console, and each waiting visitor their place."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        queue = selectors.waiting_queue()
        event: QueueEvent = {"type": "queue", "waiting": queue}
        async_to_sync(layer.group_send)(
            CONSOLE_GROUP, {"type": "haven.event", "event": event, "meta": {}}
        )
        for entry in queue:
            position: QueuePositionEvent = {
                "type": "queue_position",
                "conversation": entry["conversation"],
                "position": entry["position"],
            }
            async_to_sync(layer.group_send)(
                conversation_group(entry["conversation"]),
                {"type": "haven.event", "event": position, "meta": {}},
            )

    transaction.on_commit(send, robust=True)
