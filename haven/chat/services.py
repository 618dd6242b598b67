"""Every write to a conversation. Each runs in one transaction and broadcasts after commit.

Preconditions that callers (consumers) have already checked are checked again here: a
service must be safe to call from anywhere. Consumers run these in the writer thread
(:mod:`haven.core.db`), many to a transaction, so nothing here waits for the network: the
abuse limits are counted in memory (:mod:`haven.core.abuse`), and broadcasts are handed to
the event loop after the commit (:mod:`haven.core.broadcast`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
import uuid
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _

from haven.accounts.permissions import can
from haven.accounts.roles import Action
from haven.audit.services import audit_record
from haven.chat import danger, selectors, store
from haven.chat.events import (
    CONSOLE_GROUP,
    SUPERVISOR_GROUP,
    AssignedEvent,
    AvailabilityEvent,
    CoverEvent,
    Event,
    LiveEntryEvent,
    LiveLeaveEvent,
    MessagePayload,
    NotesEvent,
    QueueEntryEvent,
    QueueLeaveEvent,
    ReadEvent,
    StaffNoteEvent,
    TypingEvent,
    UrgentEvent,
    conversation_group,
    counsellor_group,
    group_message,
    message_event,
    state_event,
)
from haven.chat.models import (
    ConsolePresence,
    Conversation,
    ConversationDay,
    CounsellorAvailability,
    DangerTerm,
    Message,
    StaffNote,
    TranscriptHold,
)
from haven.core import abuse, broadcast, clock

logger = logging.getLogger(__name__)

# Control characters other than newline and tab are removed: they cannot be shown, and
# NUL cannot be stored in PostgreSQL at all. So are the bidirectional embedding, override
# and isolate controls (U+202A-U+202E, U+2066-U+2069): they can make text display in an
# order other than it was written (a message that seems to say something else). Right-to-
# left text itself, and the plain direction marks U+200E/U+200F, are kept.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")

# What shows nothing on the screen: white space, and Unicode's default-ignorable code points
# (zero-width space and joiners U+200B-U+200D, word joiner U+2060, byte-order mark U+FEFF,
# soft hyphen, variation selectors, the Hangul fillers, tags, ...; DerivedCoreProperties),
# plus the blank Braille pattern U+2800. A message made only of these would be stored and
# shown as a blank bubble, so it is refused as empty. They are kept inside a message that
# has something to see: a zero-width joiner holds an emoji family together, a non-joiner
# shapes Persian words.
_INVISIBLE_ONLY = re.compile(
    r"[\s\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    r"\u202a-\u202e\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    r"\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]*"
)


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


class Closed(ChatError):
    """Outside the opening hours (haven.chat.hours): the visitor may leave a message."""

    code = "closed"


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
    abuse limits in memory; it is never stored with the conversation. Outside the opening
    hours nothing starts (:class:`Closed`), and the try does not count towards the limits.
    """
    now = clock.now()
    schedule = selectors.schedule()
    if not schedule.is_open(now):
        raise Closed(closed_message(schedule.next_opening(now)))
    if source is not None:
        if abuse.is_marked("blocked-source", source):
            raise Refused(_("You cannot start a new chat right now. Please try again later."))
        started = abuse.hit("starts", source, window=3600)
        if started > settings.HAVEN_STARTS_PER_SOURCE_PER_HOUR:
            raise Refused(_("You cannot start a new chat right now. Please try again later."))
    token = secrets.token_urlsafe(32)
    language = language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    conversation = Conversation.objects.create(
        token_hash=selectors.token_hash(token),
        language=language,
        created_at=now,
        visitor_seen_at=now,
        day_number=_next_day_number(now),
    )
    if source is not None:
        conversation_visitor_seen(conversation_id=conversation.id, source=source)
    _queue_entry(conversation, message_count=0, preview="")
    return conversation, token


def _next_day_number(now: dt.datetime) -> int:
    """The next number of the day (the helpline's date). The day's row is counted up in the
    database, under its row lock, so two workers starting chats at once never share one."""
    day = timezone.localdate(now)
    for _attempt in range(2):
        if ConversationDay.objects.filter(day=day).update(last=F("last") + 1):
            return ConversationDay.objects.get(day=day).last
        try:
            with transaction.atomic():
                ConversationDay.objects.create(day=day, last=1)
            return 1
        except IntegrityError:
            continue  # another worker made the day's row just now: count it up
    raise RuntimeError("could not number the conversation")


def closed_message(next_opening: dt.datetime | None) -> str:
    """What a visitor reads when the chat is closed: when it opens next, in the active
    language and the helpline's time zone."""
    if next_opening is None:
        return _("The chat is closed right now. You can leave a message. We will answer it later.")
    local = timezone.localtime(next_opening)
    return _(
        "The chat is closed right now. It opens again on %(day)s at %(time)s. "
        "You can leave a message now. We will answer it then."
    ) % {"day": date_format(local, "l j F"), "time": time_format(local, "H:i")}


@transaction.atomic
def console_present(*, presence_id: uuid.UUID, user: Any) -> None:
    """An open console (one browser tab) is still there (see ConsolePresence). Rows of
    consoles whose worker died without closing them are cleared on the way (long gone:
    ten times the presence period)."""
    now = clock.now()
    ConsolePresence.objects.update_or_create(
        id=presence_id, defaults={"user": user, "seen_at": now}
    )
    stale = now - dt.timedelta(seconds=10 * settings.HAVEN_CONSOLE_PRESENCE_SECONDS)
    ConsolePresence.objects.filter(seen_at__lt=stale).delete()


@transaction.atomic
def conversation_urgent_set(*, actor: Any, conversation_id: uuid.UUID, urgent: bool) -> None:
    """The counsellor of an active conversation (or a supervisor) flags it as an emergency,
    or takes the flag off. Every supervisor's console is alerted at once, and the
    counsellor's own consoles follow; the visitor is told nothing. Audited."""
    conversation = _lock(conversation_id)
    holds = conversation.counsellor_id == actor.id and selectors.can_counsel(actor)
    if not holds and not can(actor, Action.READ_ANY_TRANSCRIPT):
        raise NotFound(_("This conversation was not found."))
    if conversation.status != Conversation.Status.ACTIVE:
        raise ConversationUnavailable(_("Only a running conversation can be flagged."))
    if (conversation.urgent_at is not None) == urgent:
        return
    conversation.urgent_at = clock.now() if urgent else None
    conversation.save(update_fields=["urgent_at"])
    holder = conversation.counsellor
    event: UrgentEvent = {
        "type": "urgent",
        "conversation": str(conversation.id),
        "urgent": urgent,
        "number": conversation.day_number,
        "counsellor": holder.get_username() if holder is not None else "",
    }
    _broadcast(SUPERVISOR_GROUP, event)
    if holder is not None:
        _broadcast(counsellor_group(holder.id), event)
    audit_record(
        actor=actor,
        action="conversation.urgent" if urgent else "conversation.urgent_off",
        target_type="conversation",
        target_id=conversation.id,
    )


MAX_NOTES_LENGTH = 4000


@transaction.atomic
def conversation_notes_save(*, actor: Any, conversation_id: uuid.UUID, text: str) -> None:
    """The counsellor of a conversation (or a supervisor) keeps notes on it. They go to
    that counsellor's consoles only, never to the conversation's group, where the visitor
    listens."""
    conversation = selectors.access_conversation(actor, conversation_id)
    if conversation is None or conversation.purged_at is not None:
        raise NotFound(_("This conversation was not found."))
    if conversation.counsellor_id != actor.id and not can(actor, Action.READ_ANY_TRANSCRIPT):
        raise NotFound(_("This conversation was not found."))
    text = text.replace("\r\n", "\n").strip()
    if len(text) > MAX_NOTES_LENGTH:
        raise MessageInvalid(
            _("The notes are too long. You can use up to %(limit)s characters.")
            % {"limit": MAX_NOTES_LENGTH},
            code="too_long",
        )
    Conversation.objects.filter(pk=conversation.pk).update(notes=text)
    event: NotesEvent = {"type": "notes", "conversation": str(conversation.id), "text": text}
    _broadcast(counsellor_group(actor.id), event)


MAX_CHATS_LIMIT = 12  # the highest limit a counsellor can set (0: no limit)


@transaction.atomic
def counsellor_availability_set(*, user: Any, available: bool, max_chats: int) -> None:
    """A counsellor says whether they take new conversations now, and how many at once
    (0: no limit). Every console of theirs hears it; waiting visitors learn at the next
    heartbeat whether anybody available still watches the queue."""
    if not selectors.can_counsel(user):
        raise NotFound(_("This conversation was not found."))
    if not 0 <= max_chats <= MAX_CHATS_LIMIT:
        raise MessageInvalid(
            _("Choose a limit from 1 to %(max)s, or no limit.") % {"max": MAX_CHATS_LIMIT},
            code="bad_field",
        )
    CounsellorAvailability.objects.update_or_create(
        user=user, defaults={"available": available, "max_chats": max_chats or None}
    )
    event: AvailabilityEvent = {
        "type": "availability",
        "available": available,
        "max_chats": max_chats,
    }
    _broadcast(counsellor_group(user.id), event)
    audit_record(
        actor=user,
        action="counsellor.availability",
        detail={"available": available, "max_chats": max_chats},
    )


@transaction.atomic
def console_gone(*, presence_id: uuid.UUID) -> None:
    """A console closed: it no longer watches the queue."""
    ConsolePresence.objects.filter(id=presence_id).delete()


def conversation_visitor_seen(*, conversation_id: uuid.UUID, source: str) -> None:
    """Remember, in memory only and for a day at most, which hashed source a conversation
    comes from, so that blocking the conversation can refuse that source new chats."""
    abuse.remember(
        "conversation-source", str(conversation_id), source, seconds=settings.HAVEN_BLOCK_SECONDS
    )


@dataclass(frozen=True)
class MessageRequest:
    """One message to store: what :func:`messages_send` takes, many at a time."""

    conversation_id: uuid.UUID
    sender: str
    text: str
    client_id: str
    author: Any = None
    source: str | None = None
    language: str = ""  # of the refusals, if any (default: the active language)


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
    request = MessageRequest(conversation_id, sender, text, client_id, author, source)
    (result,) = messages_send([request])
    if isinstance(result, Exception):
        raise result
    return result


# No savepoint of its own inside a transaction (the writer's): refusals are returned, not
# raised, so what raises is the database, and then the whole batch is not stored anyway.
@transaction.atomic(savepoint=False)
def messages_send(requests: Sequence[MessageRequest]) -> list[Message | ChatError]:
    """Store many messages in one transaction, in order; one result for each request: the
    stored message, or the refusal (it is not raised, so the others are still stored).

    The statements do not grow in number with the messages (haven.chat.store): the
    conversations are read and locked together, resends are found together, the new
    messages are inserted together and every conversation's last number is written in one
    statement; the events are handed over after the commit in one go.
    """
    for request in requests:
        if request.sender not in (Message.Sender.VISITOR, Message.Sender.COUNSELLOR):
            raise ValueError(f"Unknown sender {request.sender!r}")
    ids = {request.conversation_id for request in requests}
    heads, resends = store.read_batch(ids, (r.client_id for r in requests if r.client_id))
    results: list[Message | ChatError | None] = []
    new: dict[tuple[uuid.UUID, str, str], Message] = {}
    now = clock.now()
    for request in requests:
        key = (request.conversation_id, request.sender, request.client_id)
        head = heads.get(request.conversation_id)
        with _language(request.language):
            refusal = _refusal(request, head, key in resends or key in new)
        if refusal is not None:
            results.append(refusal)
        elif key in new:
            results.append(new[key])  # sent twice in this batch
        elif key in resends:
            results.append(None)  # stored before: read below
        else:
            assert head is not None
            head.last_seq += 1
            new[key] = Message(
                conversation_id=head.id,
                seq=head.last_seq,
                sender=request.sender,
                kind=Message.Kind.TEXT,
                text=clean_text(request.text),
                client_id=request.client_id,
                author=request.author if request.sender == Message.Sender.COUNSELLOR else None,
                created_at=now,
            )
            results.append(new[key])
    if None in results:
        _fill_resends(requests, results)
    if new:
        messages = list(new.values())
        changed = {m.conversation_id: heads[m.conversation_id] for m in messages}
        store.write_batch(messages, changed.values())
        events: list[tuple[str, Event]] = [
            (conversation_group(m.conversation_id), message_event(m)) for m in messages
        ]
        waiting = {h.id: h for h in changed.values() if h.status == Conversation.Status.WAITING}
        # A write, so here and not inside the building of the events below.
        raised = _raise_for_danger(waiting, messages) if waiting else set()
        events.extend(_queue_entries_after_messages(waiting, messages, raised))
        _broadcast_all(events)
    return results  # type: ignore[return-value]


def _fill_resends(
    requests: Sequence[MessageRequest], results: list[Message | ChatError | None]
) -> None:
    """Put the stored messages in place of the resends (rare: after a lost acknowledgement)."""
    wanted = [r for r, result in zip(requests, results, strict=True) if result is None]
    found = {
        (m.conversation_id, m.sender, m.client_id): m
        for m in Message.objects.filter(
            conversation_id__in={r.conversation_id for r in wanted},
            client_id__in={r.client_id for r in wanted},
        )
    }
    for index, (request, result) in enumerate(zip(requests, results, strict=True)):
        if result is None:
            results[index] = found[(request.conversation_id, request.sender, request.client_id)]


def _refusal(
    request: MessageRequest, conversation: store.Head | None, resend: bool
) -> ChatError | None:
    """Why ``request`` may not be stored, if it may not (the checks of a single send, in
    their order: a resend of a stored message is never refused for what came after it)."""
    if not request.client_id:
        return MessageInvalid(_("Something went wrong with this message."), code="bad_field")
    if conversation is None:
        return NotFound(_("This conversation was not found."))
    author = request.author
    if request.sender == Message.Sender.COUNSELLOR and (
        author is None
        or conversation.counsellor_id != author.id
        or not selectors.can_counsel(author)
    ):
        return NotFound(_("This conversation was not found."))
    if resend:
        return None
    if conversation.status == Conversation.Status.ENDED:
        return ConversationClosed(_("This chat has ended."))
    if (
        request.sender == Message.Sender.COUNSELLOR
        and conversation.status != Conversation.Status.ACTIVE
    ):
        return ConversationUnavailable(_("Accept the conversation before you write."))
    if request.sender == Message.Sender.VISITOR:
        slow = _visitor_pace(conversation.id, request.source)
        if slow is not None:
            return slow
    return text_refusal(clean_text(request.text), limit=settings.HAVEN_MAX_MESSAGE_LENGTH)


def text_refusal(cleaned: str, *, limit: int) -> MessageInvalid | None:
    """Why a cleaned text (:func:`clean_text`) may not be stored, if it may not: empty, or
    longer than ``limit`` characters. (Chat messages and messages left for later.)"""
    if _INVISIBLE_ONLY.fullmatch(cleaned):  # also when nothing is left at all
        return MessageInvalid(_("The message is empty."), code="empty")
    if len(cleaned) > limit:
        return MessageInvalid(
            _("The message is too long. You can use up to %(limit)s characters.")
            % {"limit": limit},
            code="too_long",
        )
    return None


def _queue_entries_after_messages(
    waiting: dict[uuid.UUID, store.Head], messages: Sequence[Message], raised: set[uuid.UUID]
) -> list[tuple[str, Event]]:
    """A waiting visitor wrote: that entry's count and latest words, for the consoles (one
    query for all of a batch's waiting conversations, whatever the length of the queue).
    ``raised``: the conversations these messages raised by danger words just now."""
    latest = {
        m.conversation_id: m.text
        for m in messages
        if m.conversation_id in waiting and m.sender == Message.Sender.VISITOR
    }
    if not latest:
        return []
    counts = store.visitor_message_counts(latest)
    return [
        _queue_entry_event(
            waiting[c],
            message_count=counts.get(c, 0),
            preview=selectors.shorten(t),
            danger=waiting[c].danger or c in raised,
            reorder=c in raised,
        )
        for c, t in latest.items()
    ]


def _raise_for_danger(
    waiting: dict[uuid.UUID, store.Head], messages: Sequence[Message]
) -> set[uuid.UUID]:
    """The waiting conversations of this batch that a visitor's words raise now: the first
    message that holds one of the team's danger terms marks the conversation (one UPDATE,
    and only then; a conversation already raised is not searched again). The search is per
    message and over the team's terms only, whatever the length of the queue."""
    pattern = selectors.danger_pattern()
    if pattern is None:
        return set()
    raised = {
        m.conversation_id
        for m in messages
        if m.sender == Message.Sender.VISITOR
        and m.conversation_id in waiting
        and not waiting[m.conversation_id].danger
        and danger.found(pattern, m.text)
    }
    if raised:
        Conversation.objects.filter(pk__in=raised, danger_at__isnull=True).update(
            danger_at=clock.now()
        )
    return raised


@transaction.atomic
def conversation_accept(*, conversation_id: uuid.UUID, counsellor: Any) -> Conversation:
    """Give a waiting conversation to ``counsellor``.

    The status change is one conditional UPDATE, so when two counsellors accept at once
    exactly one row is changed; the other gets :class:`ConversationUnavailable`.
    """
    if not selectors.can_counsel(counsellor):
        raise NotFound(_("This conversation was not found."))
    refusal = _refusal_to_take(counsellor, own=True)
    if refusal is not None:
        raise refusal
    now = clock.now()
    # accepted_at keeps the first accept: a conversation put back in the queue and taken
    # again was answered the first time (the figures count when a visitor was answered).
    taken = Conversation.objects.filter(
        pk=conversation_id, status=Conversation.Status.WAITING
    ).update(
        status=Conversation.Status.ACTIVE,
        counsellor=counsellor,
        accepted_at=Coalesce(F("accepted_at"), now),
        counsellor_read_seq=0,
    )
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
    entry = selectors.console_conversation(
        conversation, unread=selectors.unread_count(conversation)
    )
    assigned: AssignedEvent = {"type": "assigned", "conversation": entry}
    _broadcast(counsellor_group(counsellor.id), assigned)
    _queue_leave(conversation)
    live: LiveEntryEvent = {"type": "live_entry", "conversation": {**entry, "unread": 0}}
    _broadcast(SUPERVISOR_GROUP, live)
    audit_record(
        actor=counsellor,
        action="conversation.accept",
        target_type="conversation",
        target_id=conversation.id,
    )
    return conversation


def _refusal_to_take(counsellor: Any, *, own: bool) -> ConversationUnavailable | None:
    """Why ``counsellor`` may not take one more conversation now, if they may not: set to
    away, or at the limit they set. ``own``: they are the one asking (an accept), else a
    colleague asks for them (a transfer)."""
    available, max_chats = selectors.availability_of(counsellor)
    name = counsellor.get_username()
    if not available:
        if own:
            return ConversationUnavailable(
                _("You are set to away. Set yourself available to accept a conversation.")
            )
        return ConversationUnavailable(_("%(name)s is set to away.") % {"name": name})
    if max_chats is not None:
        holding = Conversation.objects.filter(
            counsellor=counsellor, status=Conversation.Status.ACTIVE
        ).count()
        if holding >= max_chats:
            if own:
                return ConversationUnavailable(
                    _(
                        "You have %(count)s conversations open, your limit. End one first, or "
                        "raise your limit."
                    )
                    % {"count": holding}
                )
            return ConversationUnavailable(
                _("%(name)s has %(count)s conversations open, their limit.")
                % {"name": name, "count": holding}
            )
    return None


MAX_STAFF_NOTE_LENGTH = 2000


def _staff_text(text: str, *, required: bool) -> str:
    """A whisper's or a transfer note's text, cleaned as a message is (it is shown in the
    same consoles); refused when too long, or empty where it is ``required``."""
    cleaned = clean_text(text)
    if required or cleaned:
        refusal = text_refusal(cleaned, limit=MAX_STAFF_NOTE_LENGTH)
        if refusal is not None:
            raise refusal
    return cleaned


def _held_or_supervised(actor: Any, conversation: Conversation) -> bool:
    """Whether ``actor`` holds this conversation, or supervises (and so may act on any)."""
    holds = conversation.counsellor_id == actor.id and selectors.can_counsel(actor)
    return holds or can(actor, Action.READ_ANY_TRANSCRIPT)


def _staff_note(
    conversation: Conversation, *, kind: str, author: Any, text: str, to: Any = None
) -> StaffNote:
    """Store a staff note and, after commit, tell the consoles that may read it: the
    conversation's counsellor (if it has one now) and every supervisor. Never the
    conversation's group, where the visitor listens."""
    note = StaffNote.objects.create(
        conversation=conversation,
        kind=kind,
        author=author,
        to=to,
        text=text,
        created_at=clock.now(),
    )
    event: StaffNoteEvent = {
        "type": "staff_note",
        "conversation": str(conversation.id),
        "note": selectors.staff_note_payload(note),
    }
    _broadcast(SUPERVISOR_GROUP, event)
    if conversation.counsellor_id is not None:
        _broadcast(counsellor_group(conversation.counsellor_id), event)
    return note


@transaction.atomic
def conversation_whisper(*, actor: Any, conversation_id: uuid.UUID, text: str) -> StaffNote:
    """A supervisor whispers to the counsellor of a running conversation (or the counsellor
    answers). Only the counsellor's and the supervisors' consoles get it: never the visitor,
    not live, not in their history after a resume, not in a transcript. Audited (without
    the words)."""
    conversation = _lock(conversation_id)
    if not _held_or_supervised(actor, conversation) or conversation.purged_at is not None:
        raise NotFound(_("This conversation was not found."))
    if conversation.status != Conversation.Status.ACTIVE:
        raise ConversationUnavailable(_("You can whisper only in a running conversation."))
    note = _staff_note(
        conversation,
        kind=StaffNote.Kind.WHISPER,
        author=actor,
        text=_staff_text(text, required=True),
    )
    audit_record(
        actor=actor,
        action="conversation.whisper",
        target_type="conversation",
        target_id=conversation.id,
    )
    return note


@transaction.atomic
def conversation_transfer(
    *, actor: Any, conversation_id: uuid.UUID, to_id: int | None, note: str
) -> Conversation:
    """Hand a running conversation to a colleague (``to_id``), or put it back in the queue
    (``to_id`` None), with a note for the team that the visitor never sees.

    The visitor is told only that another counsellor takes over, or that they wait again
    (their place counts from when they first started, so they come back near the front).
    The colleague must be able to counsel, be available and below their limit. The
    counsellor's console lets go of the conversation; the new counsellor's console gets it
    with its whole history and the note. Audited."""
    conversation = _lock(conversation_id)
    if not _held_or_supervised(actor, conversation):
        raise NotFound(_("This conversation was not found."))
    if conversation.status != Conversation.Status.ACTIVE:
        raise ConversationUnavailable(_("Only a running conversation can be transferred."))
    text = _staff_text(note, required=False)
    target = None
    if to_id is not None:
        from django.contrib.auth import get_user_model

        target = get_user_model().objects.filter(pk=to_id, is_active=True).first()
        if target is None or not selectors.can_counsel(target):
            raise NotFound(_("This colleague was not found."))
        if target.pk == conversation.counsellor_id:
            raise ConversationUnavailable(_("This conversation is already theirs."))
        if not selectors.console_open(target):
            # Not to someone who has gone home (a stale list, or a frame made by hand).
            raise ConversationUnavailable(
                _("%(name)s has no console open.") % {"name": target.get_username()}
            )
        refusal = _refusal_to_take(target, own=False)
        if refusal is not None:
            raise refusal
    if target is not None:
        _append(conversation, sender=Message.Sender.SYSTEM, kind=Message.Kind.TRANSFERRED)
        conversation.counsellor = target
        # The new counsellor gets the whole history when the console opens it: nothing of
        # it counts as unread.
        conversation.counsellor_read_seq = conversation.last_seq
        conversation.save(update_fields=["counsellor", "counsellor_read_seq"])
        # Consoles that held or read it along let go of it ("taken"); the visitor reads
        # that another counsellor is there.
        _broadcast(
            conversation_group(conversation.id),
            state_event(conversation),
            counsellor_id=target.pk,
        )
        entry = selectors.console_conversation(conversation, unread=0)
        assigned: AssignedEvent = {"type": "assigned", "conversation": entry}
        _broadcast(counsellor_group(target.pk), assigned)
        live: LiveEntryEvent = {"type": "live_entry", "conversation": entry}
        _broadcast(SUPERVISOR_GROUP, live)
    else:
        conversation.status = Conversation.Status.WAITING
        conversation.counsellor = None
        conversation.counsellor_read_seq = 0
        # Counted as present from now: the keeper of the worker that holds the visitor's
        # socket says so again at its next heartbeat.
        conversation.visitor_seen_at = clock.now()
        conversation.save(
            update_fields=["status", "counsellor", "counsellor_read_seq", "visitor_seen_at"]
        )
        _append(conversation, sender=Message.Sender.SYSTEM, kind=Message.Kind.REQUEUED)
        waiting = state_event(conversation)
        waiting["position"] = selectors.queue_position(conversation)
        # counsellor_id 0 (nobody): every console that held or read it lets go of it.
        _broadcast(conversation_group(conversation.id), waiting, counsellor_id=0)
        count, latest = selectors.visitor_words(conversation)
        _queue_entry(
            conversation,
            message_count=count,
            preview=selectors.shorten(latest),
            danger=conversation.danger_at is not None,
            reorder=True,
        )
        _live_leave(conversation)
    _staff_note(conversation, kind=StaffNote.Kind.TRANSFER, author=actor, text=text, to=target)
    audit_record(
        actor=actor,
        action="conversation.transfer" if target is not None else "conversation.requeue",
        target_type="conversation",
        target_id=conversation.id,
        detail={"to": target.get_username()} if target is not None else {},
    )
    return conversation


@transaction.atomic
def conversation_end(
    *, conversation_id: uuid.UUID, party: str, actor: Any = None, quick: bool = False
) -> Conversation:
    """End a conversation, by the visitor or by its counsellor. Ending twice is harmless.

    ``quick``: the visitor used the quick exit. It ends the same way, but the stream's last
    entry and the state event say so, for the counsellor to read it rightly (someone may
    have come into the room)."""
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
    _end(conversation, party=party, quick=quick and party == Conversation.Party.VISITOR)
    return conversation


def _end(conversation: Conversation, *, party: str, quick: bool = False) -> None:
    """End a locked conversation that has not ended: the stream's last entry, the state to
    both sides, and the queue or the live list it leaves."""
    was_waiting = conversation.status == Conversation.Status.WAITING
    conversation.status = Conversation.Status.ENDED
    conversation.ended_at = clock.now()
    conversation.ended_by = party
    conversation.save(update_fields=["status", "ended_at", "ended_by"])
    kind = Message.Kind.QUICK_EXIT if quick else Message.Kind.ENDED
    _append(conversation, sender=Message.Sender.SYSTEM, kind=kind)
    _broadcast(conversation_group(conversation.id), state_event(conversation, quick=quick))
    if was_waiting:
        _queue_leave(conversation)
    else:
        _live_leave(conversation)


def conversation_open(
    *, actor: Any, conversation_id: uuid.UUID, last_seq: int
) -> tuple[Conversation, list[MessagePayload]]:
    """A staff member reads a transcript (from ``last_seq`` on). Every read is audited,
    whatever ``last_seq`` the client chose: nothing is returned unless its audit entry is
    committed.

    The history is read (and decrypted) outside the audit's transaction: on SQLite a
    writing transaction holds the one write lock, and every visitor's message would wait
    for a long transcript to be decrypted."""
    conversation = selectors.access_conversation(actor, conversation_id)
    if conversation is None:
        raise NotFound(_("This conversation was not found."))
    messages = selectors.messages_after(conversation, last_seq)
    _transcript_read_record(actor=actor, conversation=conversation, last_seq=last_seq)
    return conversation, messages


@transaction.atomic
def _transcript_read_record(*, actor: Any, conversation: Conversation, last_seq: int) -> None:
    audit_record(
        actor=actor,
        action="transcript.read",
        target_type="conversation",
        target_id=conversation.id,
        detail={"status": conversation.status, "from_seq": last_seq},
    )


@transaction.atomic
def conversation_block(*, conversation_id: uuid.UUID, actor: Any) -> Conversation:
    """End an abusive conversation and refuse its (hashed) source new chats for a while.

    Only the counsellor holding it, or a supervisor. The visitor sees a calm "ended".
    Precondition for a block to reach a source seen by another worker: the caller has
    refreshed ``conversation-source`` (``abuse.refresh``) first.
    """
    conversation = _lock(conversation_id)
    holds = conversation.counsellor_id == getattr(actor, "id", None)
    if not (holds and selectors.can_counsel(actor)) and not can(actor, Action.READ_ANY_TRANSCRIPT):
        raise NotFound(_("This conversation was not found."))
    source = abuse.recall("conversation-source", str(conversation.id))
    if source:
        abuse.mark("blocked-source", source, seconds=settings.HAVEN_BLOCK_SECONDS)
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
    await _tell_conversation_now(conversation_id, event)


async def conversation_cover(*, conversation_id: uuid.UUID, covered: bool) -> None:
    """The visitor hid the chat because someone is coming (``covered``), or came back to
    it: tell the consoles of the conversation. Nothing is stored (as with typing): a page
    that reconnects while hidden says so again.

    Async because it touches no database: called straight from a consumer's event loop.
    """
    event: CoverEvent = {
        "type": "cover",
        "conversation": str(conversation_id),
        "covered": covered,
    }
    await _tell_conversation_now(conversation_id, event)


async def _tell_conversation_now(conversation_id: uuid.UUID, event: Event) -> None:
    """A live event that stores nothing, to the conversation's group at once (there is no
    commit to wait for)."""
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(conversation_group(conversation_id), group_message(event))


@transaction.atomic
def conversation_mark_returning(*, conversation_id: uuid.UUID, case_id: uuid.UUID) -> None:
    """The visitor gave a valid return code: note it in the stream (both sides see that
    this is a returning visitor). Called by the return-code service, which has already
    linked the conversation to the case."""
    conversation = _lock(conversation_id)
    if conversation.case_id != case_id:
        raise ValueError("the conversation is not linked to that case")
    if not conversation.returning:
        conversation.returning = True
        conversation.save(update_fields=["returning"])
    _append(conversation, sender=Message.Sender.SYSTEM, kind=Message.Kind.RETURNED)


# --- presence: a visitor who left the queue --------------------------------------------------


@transaction.atomic
def conversations_visitor_present(*, conversation_ids: Sequence[uuid.UUID]) -> int:
    """The visitors of these waiting conversations are connected now (each worker says so
    for its own sockets, every HAVEN_PRESENCE_HEARTBEAT_SECONDS). One statement."""
    if not conversation_ids:
        return 0
    return Conversation.objects.filter(
        pk__in=conversation_ids, status=Conversation.Status.WAITING
    ).update(visitor_seen_at=clock.now())


@transaction.atomic
def conversation_end_if_absent(*, conversation_id: uuid.UUID) -> bool:
    """End a waiting conversation whose visitor has not been connected for
    HAVEN_QUEUE_ABSENCE_SECONDS (a closed tab, a phone that went away, a worker that died),
    so counsellors never accept a ghost. It ends as left (``ended_by`` system); what the
    visitor wrote stays, for a supervisor to code. Checked again under the lock: a visitor
    who came back in time keeps their place. Returns whether it ended."""
    conversation = _lock(conversation_id)
    if conversation.status != Conversation.Status.WAITING:
        return False
    seen = conversation.visitor_seen_at or conversation.created_at
    if seen >= selectors.absence_cutoff():
        return False
    _end(conversation, party=Conversation.Party.SYSTEM)
    return True


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
                was_waiting = conversation.status == Conversation.Status.WAITING
                conversation.status = Conversation.Status.ENDED
                conversation.ended_at = now
                conversation.ended_by = Conversation.Party.SYSTEM
                closed += 1
                _broadcast(conversation_group(conversation.id), state_event(conversation))
                if was_waiting:
                    _queue_leave(conversation)
                else:
                    _live_leave(conversation)
            deleted, _by_model = Message.objects.filter(conversation=conversation).delete()
            # Whispers and transfer notes are words about this conversation: they go too.
            StaffNote.objects.filter(conversation=conversation).delete()
            # A hold's reason is staff's words about this victim: it goes with the
            # transcript. The hold itself (who, when, until when) stays as history.
            TranscriptHold.objects.filter(conversation=conversation).exclude(reason="").update(
                reason=""
            )
            conversation.purged_at = now
            conversation.notes = ""  # the counsellor's notes go with the transcript
            conversation.save(
                update_fields=["status", "ended_at", "ended_by", "purged_at", "notes"]
            )
            purged += 1
            messages += deleted
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


def _visitor_pace(conversation_id: uuid.UUID, source: str | None) -> SlowDown | None:
    """Across all connections: messages per conversation, and per hashed source, per minute.
    The count per conversation is this worker's (its visitor is on one worker at a time);
    the count per source is shared by all workers."""
    slow = _("You are sending very quickly. Wait a moment; your message will be sent.")
    if (
        abuse.hit("messages-conversation", str(conversation_id), window=60, shared=False)
        > settings.HAVEN_MESSAGES_PER_CONVERSATION_PER_MINUTE
    ):
        return SlowDown(slow, retry_after=10.0)
    if (
        source is not None
        and abuse.hit("messages-source", source, window=60)
        > settings.HAVEN_MESSAGES_PER_SOURCE_PER_MINUTE
    ):
        return SlowDown(slow, retry_after=10.0)
    return None


def _language(language: str) -> Any:
    """Refusals in ``language``, when it is not the active one already."""
    if not language or language == translation.get_language():
        return nullcontext()
    return translation.override(language)


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
    client catches up when it resumes. In the database threads the event is handed to the
    event loop (:mod:`haven.core.broadcast`); the thread does not wait for the layer.
    """
    message = group_message(event, **meta)
    loop = broadcast.current_loop()
    transaction.on_commit(lambda: broadcast.publish(group, message, loop=loop), robust=True)


def _broadcast_all(events: Sequence[tuple[str, Event]]) -> None:
    """As :func:`_broadcast` for many events (no metadata), in order, with one callback."""
    loop = broadcast.current_loop()
    messages = [(group, group_message(event)) for group, event in events]

    def send() -> None:
        for group, message in messages:
            broadcast.publish(group, message, loop=loop)

    transaction.on_commit(send, robust=True)


class _Queued(Protocol):
    """What a queue entry is made of: a conversation, or a message batch's Head."""

    id: uuid.UUID
    created_at: dt.datetime
    last_seq: int
    day_number: int
    language: str
    returning: bool


def _queue_entry_event(
    conversation: _Queued,
    *,
    message_count: int,
    preview: str,
    danger: bool = False,
    reorder: bool = False,
) -> tuple[str, QueueEntryEvent]:
    event: QueueEntryEvent = {
        "type": "queue_entry",
        "entry": {
            "conversation": str(conversation.id),
            "waiting_since": conversation.created_at.isoformat(),
            "message_count": message_count,
            "preview": preview,
            "seq": conversation.last_seq,
            "number": conversation.day_number,
            "language": conversation.language,
            "returning": conversation.returning,
            "danger": danger,
        },
    }
    if reorder:
        event["reorder"] = True
    return CONSOLE_GROUP, event


def _queue_entry(
    conversation: _Queued,
    *,
    message_count: int,
    preview: str,
    danger: bool = False,
    reorder: bool = False,
) -> None:
    """After commit: this waiting conversation's entry, to every console (one event, not
    the queue)."""
    _broadcast(
        *_queue_entry_event(
            conversation,
            message_count=message_count,
            preview=preview,
            danger=danger,
            reorder=reorder,
        )
    )


def _queue_leave(conversation: Conversation) -> None:
    """After commit: the conversation has left the queue. Waiting visitors behind it learn
    their new place from their worker (:mod:`haven.chat.positions`), which hears this too."""
    event: QueueLeaveEvent = {
        "type": "queue_leave",
        "conversation": str(conversation.id),
        "seq": conversation.last_seq,
    }
    _broadcast(CONSOLE_GROUP, event)


def _live_leave(conversation: Conversation) -> None:
    """After commit: an active conversation has ended, to the supervisors' consoles."""
    event: LiveLeaveEvent = {
        "type": "live_leave",
        "conversation": str(conversation.id),
        "seq": conversation.last_seq,
    }
    _broadcast(SUPERVISOR_GROUP, event)


MAX_DANGER_TERMS = 500


@transaction.atomic
def danger_terms_save(*, actor: Any, terms: Sequence[str]) -> None:
    """Replace the team's danger terms (supervisors). Each is trimmed, blanks and repeats
    are dropped (case and accents aside). Audited with the counts. Every worker uses the
    new list within HAVEN_DANGER_TERMS_REFRESH_SECONDS; this one at once."""
    if not can(actor, Action.MANAGE_DANGER_TERMS):
        raise NotFound(_("This page was not found."))
    kept: dict[str, str] = {}
    for raw in terms:
        term = " ".join(clean_text(raw).split())
        if term and danger.normalise(term) not in kept:
            if len(term) > DangerTerm._meta.get_field("term").max_length:  # type: ignore[operator]
                raise MessageInvalid(
                    _("A word or phrase can have up to 80 characters: %(term)s") % {"term": term},
                    code="too_long",
                )
            kept[danger.normalise(term)] = term
    if len(kept) > MAX_DANGER_TERMS:
        raise MessageInvalid(
            _("The list can have up to %(limit)s words or phrases.") % {"limit": MAX_DANGER_TERMS},
            code="too_long",
        )
    before = DangerTerm.objects.count()
    DangerTerm.objects.all().delete()
    now = clock.now()
    DangerTerm.objects.bulk_create(
        DangerTerm(term=term, created_at=now, created_by=actor) for term in kept.values()
    )
    transaction.on_commit(selectors.danger_terms_forget)
    audit_record(
        actor=actor,
        action="danger_terms.change",
        detail={"before": before, "after": len(kept)},
    )
