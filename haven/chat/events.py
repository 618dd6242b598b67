"""Every frame Haven sends over a WebSocket, typed once. Documented in docs/protocol.md.

Services build these; consumers forward them. Nothing here names a person: a counsellor is
"the counsellor", a visitor "the visitor".
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

from haven.chat.models import Conversation, Message


class MessagePayload(TypedDict):
    seq: int
    sender: str  # "visitor" | "counsellor" | "system"
    kind: str  # "text" | "joined" | "ended" | "returned"
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
    # "waiting" | "active" | "ended"; consoles reading along also get "taken" when a
    # colleague accepted the conversation (they receive nothing more of it).
    status: str
    ended_by: NotRequired[str]


class QueuePositionEvent(TypedDict):
    type: Literal["queue_position"]
    conversation: str
    position: int  # 1 = next in line


class TypingEvent(TypedDict):
    type: Literal["typing"]
    conversation: str
    sender: str  # "visitor" | "counsellor"


class WelcomeEvent(TypedDict):
    """Sent to the visitor after ``start`` or ``resume``."""

    type: Literal["welcome"]
    conversation: str
    status: str
    last_seq: int
    token: NotRequired[str]  # only after ``start``: the visitor's key to this conversation
    position: NotRequired[int]
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
    position: int
    waiting_since: str
    message_count: int
    preview: str  # the visitor's latest words, shortened


class QueueEvent(TypedDict):
    type: Literal["queue"]
    waiting: list[QueueEntry]


class ConsoleConversation(TypedDict):
    conversation: str
    status: str
    started_at: str
    last_seq: int
    unread: int


class ConsoleHelloEvent(TypedDict):
    type: Literal["hello"]
    queue: list[QueueEntry]
    conversations: list[ConsoleConversation]
    live: NotRequired[list[ConsoleConversation]]  # supervisors only


class AssignedEvent(TypedDict):
    """To all of one counsellor's consoles: this conversation is now theirs."""

    type: Literal["assigned"]
    conversation: ConsoleConversation


class LiveEvent(TypedDict):
    """To supervisors' consoles: every active conversation, to read along."""

    type: Literal["live"]
    conversations: list[ConsoleConversation]


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
    | WelcomeEvent
    | AckEvent
    | ReturnCodeEvent
    | ReturnCodeAcceptedEvent
    | ErrorEvent
    | QueueEvent
    | ConsoleHelloEvent
    | AssignedEvent
    | ReadEvent
    | LiveEvent
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


def state_event(conversation: Conversation) -> StateEvent:
    event: StateEvent = {
        "type": "state",
        "conversation": str(conversation.id),
        "status": conversation.status,
    }
    if conversation.ended_by:
        event["ended_by"] = conversation.ended_by
    return event


# Channel-layer group names. Only these modules build them.
CONSOLE_GROUP = "console.queue"
SUPERVISOR_GROUP = "console.supervisors"


def conversation_group(conversation_id: object) -> str:
    return f"conversation.{conversation_id}"


def counsellor_group(user_id: int) -> str:
    return f"counsellor.{user_id}"
