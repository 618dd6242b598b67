"""Every frame Haven sends over a WebSocket, typed once. Documented in docs/protocol.md.

Services build these; consumers forward them. Nothing here names a person: a counsellor is
"the counsellor", a visitor "the visitor".
"""

from __future__ import annotations

import json
from typing import Any, Literal, NotRequired, TypedDict

from haven.chat.models import Conversation, Message


class MessagePayload(TypedDict):
    seq: int
    sender: str  # "visitor" | "counsellor" | "system"
    # "text" | "joined" | "ended" | "quick_exit" | "returned" | "transferred" | "requeued"
    kind: str
    text: str
    client_id: str
    sent_at: str  # ISO 8601, UTC


class MessageEvent(TypedDict):
    type: Literal["message"]
    conversation: str
    message: MessagePayload


class HistoryEvent(TypedDict):
    type: Literal["history"]
    conversation: str
    status: str
    messages: list[MessagePayload]


class StateEvent(TypedDict):
    type: Literal["state"]
    conversation: str
    # "active" (accepted, or transferred to another counsellor) | "waiting" (a counsellor
    # put it back in the queue) | "ended"; consoles reading along also get "taken" when a
    # colleague accepted the conversation or it was transferred away from them (they
    # receive nothing more of it).
    status: str
    # With "waiting": the visitor's place in the queue (1 = next in line).
    position: NotRequired[int]
    ended_by: NotRequired[str]
    # With "ended" by the visitor: they used the quick exit (true only; absent otherwise).
    quick: NotRequired[bool]


class QueuePositionEvent(TypedDict):
    """To a waiting visitor whose place in the queue changed (never for an unchanged one)."""

    type: Literal["queue_position"]
    conversation: str
    position: int  # 1 = next in line
    # About how many minutes until a counsellor comes, from the last hour's pace
    # (haven.chat.waits); null when there is too little to go on.
    estimate_minutes: int | None
    # Whether a console is open anywhere (haven.chat.selectors.queue_watched). When not,
    # the visitor is told that nobody is there right now and may leave a message instead.
    watched: bool


class TypingEvent(TypedDict):
    type: Literal["typing"]
    conversation: str
    sender: str  # "visitor" | "counsellor"


class CoverEvent(TypedDict):
    """To the conversation's consoles: the visitor hid the chat behind a neutral screen
    ("someone is coming"), or came back to it. The chat goes on meanwhile."""

    type: Literal["cover"]
    conversation: str
    covered: bool


class WelcomeEvent(TypedDict):
    """Sent to the visitor after ``start`` or ``resume``."""

    type: Literal["welcome"]
    conversation: str
    status: str
    last_seq: int
    token: NotRequired[str]  # only after ``start``: the visitor's key to this conversation
    position: NotRequired[int]
    estimate_minutes: NotRequired[int | None]  # with ``position``: see QueuePositionEvent
    watched: NotRequired[bool]  # with ``position``: see QueuePositionEvent
    ended_by: NotRequired[str]


class AckEvent(TypedDict):
    type: Literal["ack"]
    conversation: str
    client_id: str
    seq: int


class ReturnCodeEvent(TypedDict):
    """To the visitor's socket only, in reply to ``return_code_request``. The phrase is in
    no other frame, in no group event and nowhere on the server after this is sent."""

    type: Literal["return_code"]
    code: str  # the phrase: four words joined by hyphens


class ReturnCodeAcceptedEvent(TypedDict):
    """To the visitor's socket only: the code was right. The stream's ``returned`` entry
    (sent to everyone in the conversation) says the same to both sides."""

    type: Literal["return_code_accepted"]


class ErrorEvent(TypedDict):
    type: Literal["error"]
    code: str
    message: str  # already translated, safe to show as text
    client_id: NotRequired[str]
    conversation: NotRequired[str]
    retry_after: NotRequired[float]


class QueueEntry(TypedDict):
    conversation: str
    waiting_since: str  # the queue's order: oldest first (then by conversation id)
    message_count: int
    preview: str  # the visitor's latest words, shortened
    seq: int  # the conversation's last sequence number when this was true
    number: int  # its number of the day: the console calls it by this ("Gesprek 12")
    language: str  # the visitor's page language ("nl", "en")
    returning: bool  # the visitor gave a return code
    # The visitor's words matched the team's danger terms: raised in the queue, a hint for
    # the counsellor (never a decision; haven.chat.danger).
    danger: bool


class QueueEntryEvent(TypedDict):
    """To every console: a conversation joined the queue, or its entry changed."""

    type: Literal["queue_entry"]
    entry: QueueEntry
    # The queue's order changed with this entry (back in the queue, or raised by danger
    # terms): every worker reads the order again and tells waiting visitors their places.
    reorder: NotRequired[bool]


class QueueLeaveEvent(TypedDict):
    """To every console: a conversation left the queue (accepted, ended, or its visitor left)."""

    type: Literal["queue_leave"]
    conversation: str
    seq: int  # entries of this conversation with a lower ``seq`` are older than this


class ConsoleConversation(TypedDict):
    conversation: str
    status: str
    started_at: str
    last_seq: int
    unread: int
    number: int  # as in QueueEntry
    language: str
    returning: bool
    counsellor: str  # who holds it (user name), for the supervisors' list; "" if nobody
    urgent: bool  # flagged as an emergency by its counsellor (UrgentEvent)
    danger: bool  # raised by the team's danger terms while it waited (a hint)


class ConsoleHelloEvent(TypedDict):
    type: Literal["hello"]
    queue: list[QueueEntry]
    conversations: list[ConsoleConversation]
    live: NotRequired[list[ConsoleConversation]]  # supervisors only
    letters_awaiting: int  # messages left for later that wait for an answer (LettersEvent)
    availability: AvailabilityEvent  # this counsellor's, as set


class AssignedEvent(TypedDict):
    """To all of one counsellor's consoles: this conversation is now theirs."""

    type: Literal["assigned"]
    conversation: ConsoleConversation


class LiveEntryEvent(TypedDict):
    """To supervisors' consoles: a conversation became active (someone accepted it)."""

    type: Literal["live_entry"]
    conversation: ConsoleConversation


class LiveLeaveEvent(TypedDict):
    """To supervisors' consoles: an active conversation ended."""

    type: Literal["live_leave"]
    conversation: str
    seq: int


class LettersEvent(TypedDict):
    """To every console: how many messages left for later wait for an answer (haven.letters),
    after one arrived or was answered."""

    type: Literal["letters"]
    awaiting: int


class UrgentEvent(TypedDict):
    """To every supervisor's console and to the counsellor's own: a conversation was
    flagged as an emergency, or no longer is. Never to the conversation's group."""

    type: Literal["urgent"]
    conversation: str
    urgent: bool
    number: int
    counsellor: str


class NotesEvent(TypedDict):
    """To a counsellor's consoles only (never to the conversation's group, where the visitor
    listens): the notes on a conversation, after ``open`` and after they changed."""

    type: Literal["notes"]
    conversation: str
    text: str


class StaffNotePayload(TypedDict):
    id: int
    kind: str  # "whisper" | "transfer"
    author: str  # user name; "" once the account is gone
    to: str  # a transfer's new counsellor (user name); "" back to the queue, or a whisper
    text: str
    sent_at: str  # ISO 8601, UTC


class StaffNoteEvent(TypedDict):
    """A whisper or a transfer's note, to the consoles of the conversation's counsellor and
    of every supervisor. Never to the conversation's group, where the visitor listens."""

    type: Literal["staff_note"]
    conversation: str
    note: StaffNotePayload


class StaffNotesEvent(TypedDict):
    """To the console that opened a conversation (after ``history``), only for those who
    may read them (its counsellor, supervisors): every whisper and transfer note so far."""

    type: Literal["staff_notes"]
    conversation: str
    notes: list[StaffNotePayload]


class AvailabilityEvent(TypedDict):
    """To all of one counsellor's consoles: their availability, as set (also in hello)."""

    type: Literal["availability"]
    available: bool
    max_chats: int  # 0: no limit


class ReadEvent(TypedDict):
    type: Literal["read"]
    conversation: str
    seq: int


Event = (
    MessageEvent
    | HistoryEvent
    | StateEvent
    | QueuePositionEvent
    | TypingEvent
    | CoverEvent
    | WelcomeEvent
    | AckEvent
    | ReturnCodeEvent
    | ReturnCodeAcceptedEvent
    | ErrorEvent
    | QueueEntryEvent
    | QueueLeaveEvent
    | ConsoleHelloEvent
    | AssignedEvent
    | ReadEvent
    | LiveEntryEvent
    | LiveLeaveEvent
    | LettersEvent
    | AvailabilityEvent
    | NotesEvent
    | UrgentEvent
    | StaffNoteEvent
    | StaffNotesEvent
)


def message_payload(message: Message) -> MessagePayload:
    return {
        "seq": message.seq,
        "sender": message.sender,
        "kind": message.kind,
        "text": message.text,
        "client_id": message.client_id,
        "sent_at": message.created_at.isoformat(),
    }


def message_event(message: Message) -> MessageEvent:
    return {
        "type": "message",
        "conversation": str(message.conversation_id),
        "message": message_payload(message),
    }


def state_event(conversation: Conversation, *, quick: bool = False) -> StateEvent:
    event: StateEvent = {
        "type": "state",
        "conversation": str(conversation.id),
        "status": conversation.status,
    }
    if conversation.ended_by:
        event["ended_by"] = conversation.ended_by
    if quick:
        event["quick"] = True
    return event


def group_message(event: Event, **meta: Any) -> dict[str, Any]:
    """The channel-layer message that carries ``event`` to a group: the event, metadata for
    the consumers (never sent to a client) and the frame itself, written out once here
    rather than by each of the sockets that forward it."""
    return {
        "type": "haven.event",
        "event": event,
        "meta": meta,
        "frame": json.dumps(event, ensure_ascii=False),
    }


# Channel-layer group names. Only these modules build them.
CONSOLE_GROUP = "console.queue"
SUPERVISOR_GROUP = "console.supervisors"


def conversation_group(conversation_id: object) -> str:
    return f"conversation.{conversation_id}"


def counsellor_group(user_id: int) -> str:
    return f"counsellor.{user_id}"
