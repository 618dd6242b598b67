"""Parsing and checking of frames that clients send. Pure Python, no Django.

Every frame is a JSON object with a ``type``. Anything else (not JSON, too big, an unknown
type, a field of the wrong type) raises :class:`FrameError`, which the consumer turns into
an ``error`` frame; the connection stays open.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

MAX_FRAME_BYTES = 64 * 1024
MAX_CLIENT_ID_LENGTH = 64
MAX_TOKEN_LENGTH = 128
# A return code is four short words; the room is for separators and stray spaces.
MAX_RETURN_CODE_LENGTH = 200


class FrameError(Exception):
    """A frame that cannot be understood. ``code`` is stable; ``detail`` is for humans."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "str" | "int" | "uuid" | "id" | "bool"
    max_length: int = 0  # for "str" and "id": 0 means no limit here (the service checks text)


# Identifiers (a message's client_id, the visitor's token) are short and plain: letters,
# digits and - _ . : only. They are stored or hashed and echoed back, so nothing else (no
# NUL, no control or invisible character) may get that far.
_IDENTIFIER = re.compile(r"[A-Za-z0-9_.:-]+")


VISITOR_FRAMES: dict[str, tuple[Field, ...]] = {
    "start": (),
    "resume": (Field("token", "id", MAX_TOKEN_LENGTH), Field("last_seq", "int")),
    "send": (Field("client_id", "id", MAX_CLIENT_ID_LENGTH), Field("text", "str")),
    "typing": (),
    # "Someone is coming": the visitor hid the chat (true) or came back to it (false).
    "cover": (Field("covered", "bool"),),
    "end": (),
    # The quick exit: the visitor left in a hurry (the console is told so, not as an end).
    "quick_exit": (),
    "return_code_request": (),
    "return_code_use": (Field("code", "str", MAX_RETURN_CODE_LENGTH),),
}

COUNSELLOR_FRAMES: dict[str, tuple[Field, ...]] = {
    "open": (Field("conversation", "uuid"), Field("last_seq", "int")),
    "accept": (Field("conversation", "uuid"),),
    "send": (
        Field("conversation", "uuid"),
        Field("client_id", "id", MAX_CLIENT_ID_LENGTH),
        Field("text", "str"),
    ),
    "typing": (Field("conversation", "uuid"),),
    "read": (Field("conversation", "uuid"), Field("seq", "int")),
    "end": (Field("conversation", "uuid"),),
    "block": (Field("conversation", "uuid"),),
    # An emergency: flagged (true) or no longer (false); supervisors are alerted at once.
    "urgent": (Field("conversation", "uuid"), Field("urgent", "bool")),
    # The counsellor's own notes on a conversation (never sent to the visitor).
    "notes": (Field("conversation", "uuid"), Field("text", "str")),
    # Available for new conversations or away, and how many at once (0: no limit).
    "availability": (Field("available", "bool"), Field("max_chats", "int")),
    # Words for the team only: a supervisor to the counsellor (or back). Never to the visitor.
    "whisper": (Field("conversation", "uuid"), Field("text", "str")),
    # Hand the conversation to a colleague (their user id), or back to the queue (0), with
    # a note for the team ("" for none).
    "transfer": (Field("conversation", "uuid"), Field("to", "int"), Field("note", "str")),
}


def parse_frame(raw: str | bytes | None, schema: dict[str, tuple[Field, ...]]) -> dict[str, Any]:
    """Decode one frame and check it against ``schema``; return only the known fields."""
    if raw is None:
        raise FrameError("bad_frame", "Frames must be JSON text.")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FrameError("bad_frame", "Frames must be UTF-8 JSON text.") from exc
    if len(raw.encode("utf-8", errors="surrogatepass")) > MAX_FRAME_BYTES:
        raise FrameError("frame_too_large", "The frame is too large.")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise FrameError("bad_frame", "The frame is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise FrameError("bad_frame", "A frame must be a JSON object.")
    frame_type = data.get("type")
    if not isinstance(frame_type, str) or frame_type not in schema:
        raise FrameError("unknown_type", "Unknown frame type.")
    frame: dict[str, Any] = {"type": frame_type}
    for spec in schema[frame_type]:
        frame[spec.name] = _check_field(spec, data.get(spec.name))
    return frame


def _check_field(spec: Field, value: Any) -> Any:
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise FrameError("bad_field", f"'{spec.name}' must be true or false.")
        return value
    if spec.kind == "int":
        # bool is an int in Python; in the protocol it is not.
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**31:
            raise FrameError("bad_field", f"'{spec.name}' must be a whole number from 0.")
        return value
    if spec.kind == "uuid":
        if not isinstance(value, str):
            raise FrameError("bad_field", f"'{spec.name}' must be a conversation id.")
        try:
            return uuid.UUID(value)
        except ValueError as exc:
            raise FrameError("bad_field", f"'{spec.name}' must be a conversation id.") from exc
    if not isinstance(value, str):
        raise FrameError("bad_field", f"'{spec.name}' must be text.")
    if spec.max_length and not 0 < len(value) <= spec.max_length:
        raise FrameError("bad_field", f"'{spec.name}' must be 1 to {spec.max_length} characters.")
    if spec.kind == "id" and not _IDENTIFIER.fullmatch(value):
        raise FrameError("bad_field", f"'{spec.name}' may hold only letters, digits and - _ . :")
    # Lone surrogates (from "\udc80" in JSON) cannot be stored or sent on; refuse them here.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise FrameError("bad_field", f"'{spec.name}' is not valid text.") from exc
    return value


class SentNumbers:
    """The sequence numbers of one conversation that a socket has sent its client, so that
    each is sent once: everything up to ``upto``, and the numbers sent above it.

    Live events can arrive late and out of order (two workers publish the two sides of a
    conversation through Redis): a number above the ones sent is always sent, even when a
    higher one went first; only a number already sent is dropped.
    """

    LIMIT = 256

    def __init__(self) -> None:
        self.upto = 0
        self.above: set[int] = set()

    def cover(self, seq: int) -> None:
        """Everything up to ``seq`` has been sent (a history, or a snapshot's last number)."""
        if seq > self.upto:
            self.upto = seq
            self.above = {n for n in self.above if n > seq}
            self._advance()

    def first_time(self, seq: int) -> bool:
        """Whether ``seq`` is new; if so it counts as sent from now on."""
        if seq <= self.upto or seq in self.above:
            return False
        self.above.add(seq)
        if len(self.above) > self.LIMIT:
            # A socket that never caught up from the start (a console that was assigned a
            # conversation and never opened it): a number more than LIMIT messages behind
            # will not come any more. Keeps the memory per conversation bounded.
            self.upto = min(self.above) - 1
        self._advance()
        return True

    def _advance(self) -> None:
        while self.upto + 1 in self.above:
            self.upto += 1
            self.above.discard(self.upto)
