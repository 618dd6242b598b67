"""Hostile input, tried on purpose against the chat protocol and the sign-in forms.

Every hostile input must get a clear ``error`` frame (or the normal form error), or be stored
and shown as the inert text it is. None may crash a connection or disturb anyone else's:
after each hostile frame the same connection and a second, calm visitor still get a normal
message acknowledged. No acknowledged message is lost: a ``resume`` from 0 afterwards still
returns everything acknowledged before. Every frame the server sends must be valid UTF-8
(a real server cannot send anything else and fails the connection instead), and a frame
carrying a conversation id must be about a conversation this socket may see.

Each consumer test runs one category of the corpus on one set of connections, checking the
connections after every single input (a failure names the input): a transactional test per
input would make this file take minutes. The flood limits are raised throughout: none of
these tests is about flooding (that is in test_consumers.py and test_abuse.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from hypothesis import example, given
from hypothesis import strategies as st

from haven.accounts import throttle
from haven.chat import services
from haven.chat.models import Conversation, Message
from haven.chat.protocol import MAX_CLIENT_ID_LENGTH, MAX_FRAME_BYTES, MAX_TOKEN_LENGTH
from haven.chat.services import clean_text
from haven.chat.tests.test_consumers import TIMEOUT, connect, connect_console, start_visitor
from haven.conftest import sign_in_fully

PASSWORD = "a long test password 42"
# Frames the server pushes on its own (not answers to a frame): skipped while waiting for one.
PUSHES = frozenset(
    {
        "queue_entry",
        "queue_leave",
        "queue_position",
        "message",
        "typing",
        "read",
        "live_entry",
        "live_leave",
        "state",
        # After an "open" (the notes) and whenever they change for every console:
        "notes",
        "letters",
        "availability",
        "urgent",
        # After an "open" (the team's notes), and after a whisper or a transfer:
        "staff_notes",
        "staff_note",
    }
)
BIDI_CONTROLS = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
MISSING = object()  # a field left out of the frame altogether
_client_ids = itertools.count(1)


def consumer_test(test: Callable[..., Any]) -> Callable[..., Any]:
    """Through the real ASGI app, with real transactions (as in test_consumers.py)."""
    return pytest.mark.django_db(transaction=True)(pytest.mark.asyncio(test))


@contextlib.contextmanager
def hostile_input(value: Any) -> Iterator[None]:
    """Name the input in a failure of the checks made for it."""
    try:
        yield
    except AssertionError as failure:
        shown = repr(value)
        shown = shown if len(shown) <= 120 else shown[:120] + "…"
        raise AssertionError(f"hostile input {shown}: {failure}") from failure


@pytest.fixture(autouse=True)
def _roomy_limits(settings) -> None:  # type: ignore[no-untyped-def]
    settings.HAVEN_RATE_BURST = 10_000
    settings.HAVEN_RATE_PER_SECOND = 10_000.0
    settings.HAVEN_CONSOLE_RATE_BURST = 10_000
    settings.HAVEN_CONSOLE_RATE_PER_SECOND = 10_000.0
    settings.HAVEN_MESSAGES_PER_CONVERSATION_PER_MINUTE = 10_000
    settings.HAVEN_MESSAGES_PER_SOURCE_PER_MINUTE = 10_000
    settings.HAVEN_STARTS_PER_SOURCE_PER_HOUR = 10_000
    settings.HAVEN_LOGIN_FAILURES_PER_ACCOUNT = 10_000
    settings.HAVEN_LOGIN_FAILURES_PER_SOURCE = 10_000


@pytest.fixture
def anna(make_counsellor):  # type: ignore[no-untyped-def]
    return make_counsellor("anna")


@pytest.fixture
def ben(make_counsellor):  # type: ignore[no-untyped-def]
    return make_counsellor("ben")


# --- talking to the server -------------------------------------------------------------------


class Party:
    """One socket, read strictly: valid UTF-8 only, and no other conversation's frames."""

    def __init__(self, socket: WebsocketCommunicator, own: set[str]) -> None:
        self.socket = socket
        self.own = own
        self.acked: dict[int, str] = {}  # seq -> the text as stored (cleaned)
        self.timeout: float = TIMEOUT
        # Pushes read while waiting for another frame: an ``ack`` and its ``message`` may
        # come in either order (docs/protocol.md), so a later wait may want one of these.
        self.skipped: list[dict[str, Any]] = []

    async def frame(self) -> dict[str, Any]:
        output = await self.socket.receive_output(timeout=self.timeout)
        assert output["type"] == "websocket.send", f"the connection was closed: {output}"
        raw = output.get("text")
        assert isinstance(raw, str), f"not a text frame: {output!r}"
        try:
            raw.encode("utf-8")
        except UnicodeEncodeError:
            raise AssertionError(
                f"the server sent a frame that is not valid UTF-8 (a real server fails the "
                f"connection instead of sending it): {raw!r}"
            ) from None
        frame: dict[str, Any] = json.loads(raw)
        # An error frame may echo what the client itself sent, and the queue's changes go to
        # every console (any counsellor may see what waits); every other frame must be
        # about a conversation this socket is allowed to see.
        about = frame.get("conversation")
        if frame["type"] not in {"error", "queue_leave"} and isinstance(about, str):
            assert about in self.own, f"a frame about another conversation: {frame}"
        return frame

    async def until(
        self, frame_type: str, where: Callable[[dict[str, Any]], bool] = lambda f: True
    ) -> dict[str, Any]:
        """The next ``frame_type`` frame, skipping pushes (but no other answer)."""
        for index, frame in enumerate(self.skipped):
            if frame["type"] == frame_type and where(frame):
                return self.skipped.pop(index)
        for _ in range(500):
            frame = await self.frame()
            if frame["type"] == frame_type and where(frame):
                return frame
            assert frame["type"] in PUSHES, f"waiting for {frame_type}, got {frame}"
            self.skipped = [*self.skipped[-50:], frame]
        raise AssertionError(f"no {frame_type} frame")

    async def answer(self) -> dict[str, Any]:
        """The next frame that is not a push: the answer to the last frame sent."""
        while (frame := await self.frame())["type"] in PUSHES:
            pass
        return frame

    async def error(self, *codes: str, client_id: str | None = None) -> dict[str, Any]:
        """The next answer is an error with one of ``codes`` and a readable message."""
        error = await self.until("error")
        assert error["code"] in codes, error
        assert isinstance(error["message"], str) and error["message"].strip(), error
        if client_id is not None:
            assert error.get("client_id") == client_id, error
        return error

    async def send(self, frame: dict[str, Any]) -> None:
        await self.socket.send_json_to(frame)

    async def send_raw(self, text: str | None = None, data: bytes | None = None) -> None:
        """Any frame at all, also an empty one (``send_to`` refuses those)."""
        if text is not None:
            await self.socket.send_input({"type": "websocket.receive", "text": text})
        else:
            await self.socket.send_input({"type": "websocket.receive", "bytes": data})

    async def drain(self) -> list[dict[str, Any]]:
        """Read (and so check) whatever is still on its way."""
        frames = []
        while not await self.socket.receive_nothing(timeout=0.02, interval=0.005):
            frames.append(await self.frame())
        return frames

    def send_frame(self, client_id: str, text: Any) -> dict[str, Any]:
        raise NotImplementedError

    async def post(self, client_id: str, text: str) -> dict[str, Any]:
        """Send a message that must be accepted; remember it as acknowledged."""
        await self.send(self.send_frame(client_id, text))
        return await self.acknowledged(client_id, text)

    async def acknowledged(self, client_id: str, text: str) -> dict[str, Any]:
        ack = await self.until("ack")
        assert ack["client_id"] == client_id, ack
        assert ack["conversation"] in self.own, ack
        self.acked[ack["seq"]] = clean_text(text)
        return ack

    def calm_message(self) -> tuple[str, str]:
        number = next(_client_ids)
        return f"calm-{number}", f"calm message {number}"

    async def say(self, text: str | None = None) -> dict[str, Any]:
        """A calm message, acknowledged: this connection still works."""
        client_id, calm_text = self.calm_message()
        return await self.post(client_id, text or calm_text)


class Visitor(Party):
    def __init__(self, socket: WebsocketCommunicator, conversation: str, token: str) -> None:
        super().__init__(socket, {conversation})
        self.conversation = conversation
        self.token = token

    def send_frame(self, client_id: str, text: Any) -> dict[str, Any]:
        return {"type": "send", "client_id": client_id, "text": text}


class Console(Party):
    """A counsellor's console that holds ``conversation``."""

    def __init__(self, socket: WebsocketCommunicator, conversation: str) -> None:
        super().__init__(socket, {conversation})
        self.conversation = conversation

    def send_frame(self, client_id: str, text: Any) -> dict[str, Any]:
        return {
            "type": "send",
            "conversation": self.conversation,
            "client_id": client_id,
            "text": text,
        }


async def new_visitor() -> Visitor:
    socket, welcome = await start_visitor()
    return Visitor(socket, welcome["conversation"], welcome["token"])


async def visitor_scene() -> tuple[Visitor, Visitor]:
    """A visitor about to misbehave (one message already acknowledged) and a calm one."""
    hostile = await new_visitor()
    calm = await new_visitor()
    await hostile.say("written before the hostile input")
    return hostile, calm


async def console_scene(counsellor: Any) -> tuple[Console, Visitor, Visitor]:
    """A console holding a conversation (one reply acknowledged), its visitor, and a calm
    visitor waiting in the queue."""
    held = await new_visitor()
    socket, _ = await connect_console(counsellor)
    console = Console(socket, held.conversation)
    await console.send({"type": "accept", "conversation": held.conversation})
    await console.until("assigned")
    await console.say("written before the hostile input")
    calm = await new_visitor()
    return console, held, calm


async def still_works(party: Party, calm: Visitor) -> None:
    """The same connection and another visitor's both get a normal message acknowledged
    (sent at once, acknowledged each on its own socket)."""
    mine, theirs = party.calm_message(), calm.calm_message()
    await party.send(party.send_frame(*mine))
    await calm.send(calm.send_frame(*theirs))
    await party.acknowledged(*mine)
    await calm.acknowledged(*theirs)


async def history_of(conversation: str, token: str, last_seq: int = 0) -> list[dict[str, Any]]:
    """What a visitor gets back with ``resume`` on a new connection."""
    party = Party(await connect("/ws/visitor/"), {conversation})
    await party.send({"type": "resume", "token": token, "last_seq": last_seq})
    await party.until("welcome")
    history = await party.until("history")
    await party.socket.disconnect()
    return history["messages"]


async def nothing_lost(conversation: str, token: str, acked: dict[int, str]) -> None:
    """Every acknowledged message is returned, unchanged, by a resume from 0."""
    stored = {m["seq"]: m["text"] for m in await history_of(conversation, token)}
    lost = {seq: text for seq, text in acked.items() if stored.get(seq) != text}
    assert not lost, f"acknowledged but not returned by resume: {lost}"


@database_sync_to_async
def stored_text(conversation: str, seq: int) -> str:
    return Message.objects.get(conversation_id=conversation, seq=seq).text


@database_sync_to_async
def stored_stream(conversation: str) -> dict[int, str]:
    return dict(Message.objects.filter(conversation_id=conversation).values_list("seq", "text"))


@database_sync_to_async
def stored_rows() -> list[tuple[str, str]]:
    return list(Message.objects.values_list("text", "client_id"))


async def finish(*parties: Party) -> None:
    """Read what is left on every socket (each frame checked), close, and make sure no NUL
    reached the database (PostgreSQL cannot store it at all)."""
    for party in parties:
        await party.drain()
        await party.socket.disconnect()
    with_nul = [row for row in await stored_rows() if "\x00" in row[0] or "\x00" in row[1]]
    assert not with_nul, f"NUL reached the database: {with_nul!r}"


async def refused(party: Party, calm: Visitor, frames: list[tuple[Any, tuple[str, ...]]]) -> None:
    """Send each hostile frame (a dict, text or bytes); each gets an error with one of its
    codes, after which ``party`` and ``calm`` both still work."""
    for frame, codes in frames:
        with hostile_input(frame):
            if isinstance(frame, dict):
                await party.send(frame)
            elif isinstance(frame, bytes):
                await party.send_raw(data=frame)
            else:
                await party.send_raw(frame)
            await party.error(*codes)
            await still_works(party, calm)


# --- HTML, script and template injection -------------------------------------------------------

MARKUP = [
    "<script>alert('haven')</script>",
    '<img src=x onerror="alert(document.cookie)">',
    "<svg/onload=alert(1)>",
    "javascript:alert(document.cookie)",
    '<a href="javascript:alert(1)">click here</a>',
    "</textarea><script>alert(1)</script>",
    "</script><script>alert(1)</script>",
    '"><iframe src="https://evil.example/"></iframe>',
    "{{ 7*7 }}",
    "{% debug %}",
    "{{ request.session }} {% csrf_token %} {% load static %}",
    "${7*7} #{7*7} <%= 7*7 %>",
    "&lt;b&gt;already escaped&lt;/b&gt; &amp; &#x3C;script&#x3E;",
    "<!-- hidden --> <![CDATA[ x ]]> <style>body{display:none}</style>",
    "line\u2028separator\u2029paragraph",
    "Z\u0338\u0322\u031ba\u0335\u0321\u035dl\u0337\u0328\u0360g\u0336\u0322\u031bo",
]


@consumer_test
async def test_markup_from_a_visitor_is_stored_and_echoed_verbatim() -> None:
    """HTML, script, ``javascript:`` URLs and template syntax are text: stored exactly as
    typed, echoed exactly in the ``message`` frame and by ``resume`` (the page escapes it;
    the server neither alters nor executes it)."""
    hostile, calm = await visitor_scene()
    for text in MARKUP:
        with hostile_input(text):
            ack = await hostile.post(f"markup-{next(_client_ids)}", text)
            echoed = await hostile.until(
                "message", lambda f, s=ack["seq"]: f["message"]["seq"] == s
            )
            assert echoed["message"]["text"] == text
            assert await stored_text(hostile.conversation, ack["seq"]) == text
            await still_works(hostile, calm)
    await nothing_lost(hostile.conversation, hostile.token, hostile.acked)
    await finish(hostile, calm)


@consumer_test
async def test_markup_from_a_counsellor_reaches_the_visitor_verbatim(anna) -> None:  # type: ignore[no-untyped-def]
    """The same holds the other way: the visitor gets the counsellor's text exactly."""
    console, held, calm = await console_scene(anna)
    for text in MARKUP:
        with hostile_input(text):
            ack = await console.post(f"markup-{next(_client_ids)}", text)
            seen = await held.until("message", lambda f, s=ack["seq"]: f["message"]["seq"] == s)
            assert (seen["message"]["sender"], seen["message"]["text"]) == ("counsellor", text)
            await still_works(console, calm)
    await nothing_lost(held.conversation, held.token, console.acked)
    await finish(console, held, calm)


@pytest.mark.django_db
def test_pages_never_render_message_text_on_the_server(counsellor) -> None:  # type: ignore[no-untyped-def]
    """Messages only ever travel as JSON over the socket: neither the visitor page nor the
    console contains any message text (waiting, held or replied) when the server renders it."""
    marker = "hostile-marker-5d1c"
    conversation, _ = services.conversation_start(language="nl")
    services.message_send(
        conversation_id=conversation.id,
        sender=Message.Sender.VISITOR,
        text=f"<script>alert('{marker}-visitor')</script> {{{{ 7*7 }}}}",
        client_id="v1",
    )
    services.conversation_accept(conversation_id=conversation.id, counsellor=counsellor)
    services.message_send(
        conversation_id=conversation.id,
        sender=Message.Sender.COUNSELLOR,
        text=f'<img src=x onerror="{marker}-counsellor">',
        client_id="c1",
        author=counsellor,
    )
    waiting, _ = services.conversation_start(language="en")
    services.message_send(
        conversation_id=waiting.id,
        sender=Message.Sender.VISITOR,
        text=f"{marker}-queue {{% debug %}}",
        client_id="w1",
    )
    client = Client()
    pages = {path: client.get(path) for path in ("/", "/en/")}
    sign_in_fully(client, counsellor)
    pages.update({path: client.get(path) for path in ("/console/", "/en/console/")})
    for path, response in pages.items():
        assert response.status_code == 200, path
        assert marker not in response.content.decode(), path


# --- length ------------------------------------------------------------------------------------


@consumer_test
async def test_the_length_limit_is_exact() -> None:
    """Exactly ``HAVEN_MAX_MESSAGE_LENGTH`` characters after cleaning are accepted (white
    space around and control characters do not count, an emoji counts as one); one more is
    refused with ``too_long`` and the client_id, so the client can give the text back."""
    limit = django_settings.HAVEN_MAX_MESSAGE_LENGTH
    hostile, calm = await visitor_scene()
    accepted = [
        "x" * limit,
        "\U0001f600" * limit,
        " \n\t" + "x" * limit + "\r\n  ",
        "x" * (limit - 1) + "\x00" * 50 + "y",
    ]
    too_long = ["x" * (limit + 1), "\U0001f600" * (limit + 1), "e" + "\u0301" * limit]
    for text in accepted:
        with hostile_input(text):
            ack = await hostile.post(f"at-limit-{next(_client_ids)}", text)
            assert len(await stored_text(hostile.conversation, ack["seq"])) == limit
            await still_works(hostile, calm)
    for text in too_long:
        with hostile_input(text):
            client_id = f"over-{next(_client_ids)}"
            await hostile.send(hostile.send_frame(client_id, text))
            error = await hostile.error("too_long", client_id=client_id)
            assert str(limit) in error["message"]
            await still_works(hostile, calm)
    await nothing_lost(hostile.conversation, hostile.token, hostile.acked)
    await finish(hostile, calm)


def _frame_of_size(size: int, fill: str = "x") -> str:
    head, tail = '{"type": "send", "client_id": "big", "text": "', '"}'
    room = size - len((head + tail).encode())
    assert room % len(fill.encode()) == 0
    return head + fill * (room // len(fill.encode())) + tail


@consumer_test
async def test_oversized_frames_are_refused_and_the_connection_lives_on() -> None:
    """A frame of more than ``MAX_FRAME_BYTES`` bytes of UTF-8 (counted in bytes, not
    characters) is ``frame_too_large``; one of exactly that size is read (and its text is
    then too long)."""
    hostile, calm = await visitor_scene()
    await refused(
        hostile,
        calm,
        [
            (_frame_of_size(MAX_FRAME_BYTES), ("too_long",)),
            (_frame_of_size(MAX_FRAME_BYTES + 1), ("frame_too_large",)),
            (_frame_of_size(MAX_FRAME_BYTES + 2, "\u00e9"), ("frame_too_large",)),
            (_frame_of_size(4 * 20_000 + 48, "\U0001f600"), ("frame_too_large",)),
            (_frame_of_size(1_000_000), ("frame_too_large",)),
        ],
    )
    await nothing_lost(hostile.conversation, hostile.token, hostile.acked)
    await finish(hostile, calm)


# --- empty, invisible and control characters ---------------------------------------------------


@consumer_test
async def test_empty_and_invisible_messages_are_refused() -> None:
    """Nothing to see after cleaning (white space, control characters, or characters that
    show nothing: zero-width space and joiners, word joiner, byte-order mark, soft hyphen,
    variation selectors, Hangul fillers, the blank Braille pattern, tags) is ``empty``,
    with the client_id; nothing is stored."""
    hostile, calm = await visitor_scene()
    invisible = [
        "",
        " ",
        "\t\n \r\n\r",
        "\x00",
        "\x00\x01\x02\x03\x07\x08\x0b\x0c\x1b\x1f\x7f",
        "".join(BIDI_CONTROLS),
        " \x00\u202a \t\x1b ",
        "\u200b",
        "\u200c",
        "\u200d",
        "\u2060",
        "\ufeff",
        "\u200b\u200c\u200d\u2060\ufeff",
        " \u200b \n\u200d\t\ufeff ",
        "\u00a0\u3000\u2028\u2029\u200b",
        "\u00ad\u034f\u180e\u2061\u2064\ufe0f",
        "\u115f\u1160\u3164\uffa0",
        "\u2800\u2800",
        "\U000e0041\U000e0001\U000e007f",
    ]
    for text in invisible:
        with hostile_input(text):
            client_id = f"nothing-{next(_client_ids)}"
            await hostile.send(hostile.send_frame(client_id, text))
            await hostile.error("empty", client_id=client_id)
            await still_works(hostile, calm)
    count = await database_sync_to_async(
        Message.objects.filter(conversation_id=hostile.conversation).count
    )()
    assert count == len(hostile.acked)
    await nothing_lost(hostile.conversation, hostile.token, hostile.acked)
    await finish(hostile, calm)


ARABIC = "مرحبا، أحتاج إلى مساعدة"
HEBREW = "שלום, אני צריכה עזרה"
CLEANED = [
    ("a\x00b", "ab"),
    ("\x00\x00leading NULs", "leading NULs"),
    ("bell\x07 esc\x1b[31mred\x1b[0m", "bell esc[31mred[0m"),
    ("del\x7f vt\x0b ff\x0c bs\x08", "del vt ff bs"),
    ("one\r\ntwo\rthree", "one\ntwo\nthree"),
    ("tab\tand\nnewline stay", "tab\tand\nnewline stay"),
    ("pay \u202eexe.txt\u202c now", "pay exe.txt now"),
    *((f"a{c}b{c}", "ab") for c in BIDI_CONTROLS),
    (ARABIC, ARABIC),
    (HEBREW, HEBREW),
    ("\u200f" + HEBREW + "\u200f", "\u200f" + HEBREW + "\u200f"),
    ("I said \u200e" + HEBREW, "I said \u200e" + HEBREW),
    (ARABIC + "\x00\u202b!", ARABIC + "!"),
    ("\ufeffbom \ufffe\uffff end", "\ufeffbom \ufffe\uffff end"),
    # Characters that show nothing are kept where there is something to see: the joiner
    # holds an emoji family together, the non-joiner shapes a Persian word.
    ("\U0001f469\u200d\U0001f467", "\U0001f469\u200d\U0001f467"),
    ("\u0645\u06cc\u200c\u062e\u0648\u0627\u0645", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0645"),
    ("\u200bhallo\u200b", "\u200bhallo\u200b"),
]


@consumer_test
async def test_control_characters_are_removed_and_scripts_kept() -> None:
    """NUL and the other C0 controls (but newline and tab), DEL, and the bidi embedding,
    override and isolate controls U+202A-U+202E and U+2066-U+2069 are removed, so NUL never
    reaches the database and no text can display in an order other than it was written;
    Arabic, Hebrew and the plain direction marks U+200E/U+200F are kept."""
    hostile, calm = await visitor_scene()
    for text, cleaned in CLEANED:
        with hostile_input(text):
            ack = await hostile.post(f"controls-{next(_client_ids)}", text)
            echoed = await hostile.until(
                "message", lambda f, s=ack["seq"]: f["message"]["seq"] == s
            )
            assert echoed["message"]["text"] == cleaned
            assert await stored_text(hostile.conversation, ack["seq"]) == cleaned
            await still_works(hostile, calm)
    await nothing_lost(hostile.conversation, hostile.token, hostile.acked)
    await finish(hostile, calm)


@consumer_test
async def test_hostile_client_ids_never_crash_and_nul_never_reaches_the_database() -> None:
    """A client_id is stored with the message and echoed back, so one with NUL, markup,
    bidi controls, SQL or spaces is either refused (``bad_field``) or stored and echoed
    exactly: never a crash, and never a NUL in the database (PostgreSQL rejects NUL)."""
    hostile, calm = await visitor_scene()
    client_ids = ["id\x00", "\x00", "<img src=x onerror=alert(1)>", "\u202eevil", "' OR 1=1 --"]
    for client_id in [*client_ids, "with space", "tab\there"]:
        with hostile_input(client_id):
            await hostile.send(hostile.send_frame(client_id, "hello"))
            answer = await hostile.answer()
            assert answer["type"] in {"ack", "error"}, answer
            if answer["type"] == "error":
                assert answer["code"] == "bad_field", answer
            else:
                assert answer["client_id"] == client_id, answer
                hostile.acked[answer["seq"]] = "hello"
            await still_works(hostile, calm)
    await nothing_lost(hostile.conversation, hostile.token, hostile.acked)
    await finish(hostile, calm)


# --- lone surrogates and invalid UTF-8 ---------------------------------------------------------


@consumer_test
async def test_lone_surrogates_are_refused() -> None:
    """A lone surrogate (``"\\ud800"`` in JSON) cannot be stored or sent on: the frame is
    refused with a clear error, and that error frame is itself valid UTF-8."""
    hostile, calm = await visitor_scene()
    await refused(
        hostile,
        calm,
        [
            ({"type": "send", "client_id": "s1", "text": "\ud800"}, ("bad_field",)),
            ({"type": "send", "client_id": "s2", "text": "ok \udfff ok"}, ("bad_field",)),
            ({"type": "send", "client_id": "s3", "text": "half an emoji \ud83d"}, ("bad_field",)),
            ({"type": "resume", "token": "\udc80", "last_seq": 0}, ("bad_field",)),
            ({"type": "send\ud800"}, ("unknown_type",)),
        ],
    )
    # A lone surrogate in a field the frame does not have is ignored like any extra field.
    await hostile.send({"type": "send", "client_id": "s6", "text": "fine", "extra": "\ud800"})
    hostile.acked[(await hostile.until("ack"))["seq"]] = "fine"
    await still_works(hostile, calm)
    await nothing_lost(hostile.conversation, hostile.token, hostile.acked)
    await finish(hostile, calm)


@consumer_test
async def test_an_error_never_echoes_a_lone_surrogate() -> None:
    """A refused frame whose client_id or conversation holds a lone surrogate gets an error
    frame that is valid UTF-8 (the identifier left out, or replaced)."""
    hostile, calm = await visitor_scene()
    await refused(
        hostile,
        calm,
        [
            ({"type": "send", "client_id": "\ud800", "text": "hi"}, ("bad_field",)),
            (
                {"type": "send", "client_id": "s", "text": 5, "conversation": "\udfff"},
                ("bad_field",),
            ),
        ],
    )
    await nothing_lost(hostile.conversation, hostile.token, hostile.acked)
    await finish(hostile, calm)


@consumer_test
async def test_invalid_utf8_in_a_binary_frame_is_bad_frame() -> None:
    """A binary frame is read as UTF-8 JSON; anything that is not valid UTF-8 (stray bytes,
    truncated or overlong sequences, encoded surrogates, empty) is ``bad_frame``."""
    hostile, calm = await visitor_scene()
    corpus = [
        b"\xff\xfe\x00",
        b"\x80",
        b"\xc3\x28",
        b"\xed\xa0\x80",
        b"\xf8\x88\x80\x80\x80",
        b"\xc0\xaf",
        b'{"type": "send", "client_id": "b1", "text": "\xff"}',
        b"",
    ]
    await refused(hostile, calm, [(data, ("bad_frame",)) for data in corpus])
    await nothing_lost(hostile.conversation, hostile.token, hostile.acked)
    await finish(hostile, calm)


@consumer_test
async def test_a_binary_frame_with_valid_json_counts_as_text() -> None:
    """As documented (docs/protocol.md, common rules): valid UTF-8 JSON in a binary frame is
    treated like a text frame."""
    hostile, calm = await visitor_scene()
    frame = {"type": "send", "client_id": "bin", "text": "binary but fine \u00e9"}
    await hostile.send_raw(data=json.dumps(frame).encode())
    ack = await hostile.until("ack")
    assert ack["client_id"] == "bin"
    hostile.acked[ack["seq"]] = frame["text"]
    await still_works(hostile, calm)
    await nothing_lost(hostile.conversation, hostile.token, hostile.acked)
    await finish(hostile, calm)


# --- malformed, not an object, unknown types ---------------------------------------------------

MALFORMED = [
    "not json",
    "{",
    "}",
    '{"type": "send",}',
    "{'type': 'send'}",
    '{"type": "send" "client_id": "a"}',
    '{"type": "send", "client_id": "a", "text": "x"',
    '{"type": "send", "client_id": "a", "text": "x"} {"type": "start"}',
    '\ufeff{"type": "typing"}',
    "",
    " \n ",
    "\x00",
    "[" * 50_000,
    "[" * 30_000 + "]" * 30_000,
    '{"a":' * 10_000 + "1" + "}" * 10_000,
    '{"type": "send", "client_id": "d", "text": "x", "extra": ' + "[" * 20_000 + "]" * 20_000 + "}",
]
NOT_AN_OBJECT = ["[]", "[1, 2]", '[{"type": "typing"}]', "null", "true", "42", '"typing"', "-0"]
UNKNOWN_TYPES: list[Any] = [
    "launch",
    "",
    "SEND",
    "Send",
    " send",
    "send ",
    "send\u0000",
    "on_send",
    "__class__",
    "haven.event",
    "haven_event",
    "ack",
    "welcome",
    "error",
    7,
    None,
    True,
    [],
    {"type": "send"},
]


@consumer_test
async def test_malformed_json_and_non_objects_are_bad_frames() -> None:
    """Not JSON, broken JSON, JSON nested too deep (also inside an otherwise good frame), or
    JSON that is not an object: ``bad_frame``, and the connection lives on."""
    hostile, calm = await visitor_scene()
    await refused(hostile, calm, [(raw, ("bad_frame",)) for raw in MALFORMED + NOT_AN_OBJECT])
    await nothing_lost(hostile.conversation, hostile.token, hostile.acked)
    await finish(hostile, calm)


@consumer_test
async def test_unknown_frame_types_are_refused() -> None:
    """A ``type`` that this endpoint does not know (a console type on the visitor's socket, a
    server frame type, a near miss, or not a string at all) or no ``type``: ``unknown_type``."""
    hostile, calm = await visitor_scene()
    frames = [
        *({"type": t} for t in UNKNOWN_TYPES),
        *({"type": t} for t in ("accept", "open", "read", "block")),
        {"client_id": "no-type", "text": "hello"},
    ]
    await refused(hostile, calm, [(frame, ("unknown_type",)) for frame in frames])
    await nothing_lost(hostile.conversation, hostile.token, hostile.acked)
    await finish(hostile, calm)


@consumer_test
async def test_the_console_survives_the_same_corpus(anna) -> None:  # type: ignore[no-untyped-def]
    """The counsellor's socket answers the malformed corpus the same way and lives on."""
    console, held, calm = await console_scene(anna)
    await refused(
        console,
        calm,
        [
            *((raw, ("bad_frame",)) for raw in MALFORMED + NOT_AN_OBJECT),
            *((data, ("bad_frame",)) for data in (b"\xff\xfe", b"\xed\xa0\x80", b"")),
            *(({"type": t}, ("unknown_type",)) for t in [*UNKNOWN_TYPES, "start", "resume"]),
            (_frame_of_size(MAX_FRAME_BYTES + 1), ("frame_too_large",)),
        ],
    )
    await nothing_lost(held.conversation, held.token, console.acked)
    await finish(console, held, calm)


# --- wrong types for every field ---------------------------------------------------------------

# One of each: a number for text, text for a number, a boolean, null, an array, an object,
# the field left out; for numbers also a fraction and the ends of the range.
WRONG: dict[str, list[Any]] = {
    "str": [123, True, None, ["x"], {"a": "b"}, MISSING],
    "int": ["1", 1.5, -1, 2**31, True, None, [1], {"n": 1}, MISSING],
    "uuid": [uuid.UUID(int=1).int, True, None, [], {}, "not-a-uuid", MISSING],
}


def _with(frame: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    frame = dict(frame)
    if value is MISSING:
        del frame[name]
    else:
        frame[name] = value
    return frame


@consumer_test
async def test_visitor_fields_of_the_wrong_type_are_bad_field() -> None:
    """Every field of every visitor frame as a number, a number in a string, a boolean,
    null, an array, an object, or left out: ``bad_field``."""
    hostile, calm = await visitor_scene()
    valid = {
        "resume": {"type": "resume", "token": hostile.token, "last_seq": 0},
        "send": {"type": "send", "client_id": "typed", "text": "hello"},
    }
    fields = [("resume", "token", "str"), ("resume", "last_seq", "int")]
    fields += [("send", "client_id", "str"), ("send", "text", "str")]
    await refused(
        hostile,
        calm,
        [
            (_with(valid[frame_type], name, value), ("bad_field",))
            for frame_type, name, kind in fields
            for value in WRONG[kind]
        ],
    )
    await nothing_lost(hostile.conversation, hostile.token, hostile.acked)
    await finish(hostile, calm)


COUNSELLOR_FIELDS = [
    ("open", "conversation", "uuid"),
    ("open", "last_seq", "int"),
    ("accept", "conversation", "uuid"),
    ("send", "conversation", "uuid"),
    ("send", "client_id", "str"),
    ("send", "text", "str"),
    ("typing", "conversation", "uuid"),
    ("read", "conversation", "uuid"),
    ("read", "seq", "int"),
    ("end", "conversation", "uuid"),
    ("block", "conversation", "uuid"),
]


@consumer_test
async def test_counsellor_fields_of_the_wrong_type_are_bad_field(anna) -> None:  # type: ignore[no-untyped-def]
    """Every field of every console frame, wrongly typed or left out: ``bad_field``;
    nothing changes, and the console and a calm visitor still work."""
    console, held, calm = await console_scene(anna)
    valid = {
        "conversation": held.conversation,
        "last_seq": 0,
        "seq": 1,
        "client_id": "typed",
        "text": "hello",
    }
    await refused(
        console,
        calm,
        [
            (_with({"type": frame_type, **valid}, name, value), ("bad_field",))
            for frame_type, name, kind in COUNSELLOR_FIELDS
            for value in WRONG[kind]
        ],
    )
    status = await database_sync_to_async(
        lambda: Conversation.objects.get(pk=held.conversation).status
    )()
    assert status == "active"
    await nothing_lost(held.conversation, held.token, console.acked)
    await finish(console, held, calm)


@consumer_test
async def test_extra_fields_are_ignored() -> None:
    """Unexpected fields do nothing: a client cannot choose its message's number, sender,
    kind, author or conversation, and nothing reaches a service that it did not ask for."""
    hostile, calm = await visitor_scene()
    extras = [
        {"seq": 1},
        {"seq": 999_999, "last_seq": 5},
        {"sender": "counsellor", "kind": "joined", "author": 1},
        {"conversation": calm.conversation},
        {"__proto__": {"isAdmin": True}, "constructor": {"prototype": {}}, "admin": True},
        {"token": "x" * 500, "meta": {"counsellor_id": 1}},
    ]
    for extra in extras:
        with hostile_input(extra):
            expected = max(hostile.acked) + 1
            client_id = f"extra-{next(_client_ids)}"
            await hostile.send({**hostile.send_frame(client_id, "with extras"), **extra})
            ack = await hostile.until("ack")
            assert (ack["client_id"], ack["conversation"], ack["seq"]) == (
                client_id,
                hostile.conversation,
                expected,
            )
            hostile.acked[expected] = "with extras"
            message = await hostile.until("message", lambda f, s=expected: f["message"]["seq"] == s)
            assert (message["message"]["sender"], message["message"]["kind"]) == ("visitor", "text")
            await still_works(hostile, calm)
    first = await stored_text(hostile.conversation, 1)
    assert first == "written before the hostile input"
    calm_senders = await database_sync_to_async(
        lambda: set(
            Message.objects.filter(conversation_id=calm.conversation).values_list(
                "sender", flat=True
            )
        )
    )()
    assert calm_senders == {"visitor"}
    assert len(calm.acked) == len(extras)
    await nothing_lost(hostile.conversation, hostile.token, hostile.acked)
    await finish(hostile, calm)


@consumer_test
async def test_extra_fields_on_typing_and_resume_and_duplicate_keys() -> None:
    """``typing`` aimed at another conversation goes only to the socket's own; ``resume``
    with an extra ``conversation`` binds to the token's conversation only; a key given
    twice counts as browsers count it (the last one)."""
    hostile, calm = await visitor_scene()
    await hostile.send(
        {"type": "typing", "conversation": calm.conversation, "sender": "counsellor"}
    )
    await hostile.send(
        {"type": "resume", "token": hostile.token, "last_seq": 1, "conversation": calm.conversation}
    )
    welcome = await hostile.until("welcome")
    assert welcome["conversation"] == hostile.conversation
    assert (await hostile.until("history"))["messages"] == []
    await still_works(hostile, calm)
    assert all(f["type"] != "typing" for f in await calm.drain())
    await hostile.send_raw(
        '{"type": "end", "type": "send", "client_id": "dup-a", "client_id": "dup-b",'
        ' "text": "first", "text": "second"}'
    )
    ack = await hostile.until("ack")
    assert ack["client_id"] == "dup-b"
    hostile.acked[ack["seq"]] = "second"
    await still_works(hostile, calm)
    await nothing_lost(hostile.conversation, hostile.token, hostile.acked)
    await finish(hostile, calm)


# --- replayed and forged sequence numbers ------------------------------------------------------


@consumer_test
async def test_resume_beyond_the_stream_gets_an_empty_history() -> None:
    """``last_seq`` past the end of the stream is no error, on a new socket or the same one:
    ``welcome`` with the real last number, an empty history, and the socket goes on."""
    hostile, calm = await visitor_scene()
    extra_sockets = []
    for beyond in (1, 1000, None):
        for fresh in (False, True):
            end = max(hostile.acked)
            last_seq = 2**31 - 1 if beyond is None else end + beyond
            with hostile_input({"last_seq": last_seq, "new socket": fresh}):
                party = hostile
                if fresh:
                    party = Visitor(
                        await connect("/ws/visitor/"), hostile.conversation, hostile.token
                    )
                    party.acked = hostile.acked
                    extra_sockets.append(party)
                await party.send({"type": "resume", "token": hostile.token, "last_seq": last_seq})
                welcome = await party.until("welcome")
                assert (welcome["conversation"], welcome["last_seq"]) == (hostile.conversation, end)
                assert (await party.until("history"))["messages"] == []
                await still_works(party, calm)
    await nothing_lost(hostile.conversation, hostile.token, hostile.acked)
    await finish(hostile, calm, *extra_sockets)


@consumer_test
async def test_a_negative_or_non_integer_last_seq_is_refused() -> None:
    """``last_seq`` must be a whole number from 0 below 2**31: negative, too big, fractional,
    infinite, a string, or an integer with thousands of digits is a clear error."""
    hostile, calm = await visitor_scene()
    values: list[Any] = [-1, -(2**31), 2**31, 2**63, 10**30, 1.5, 1e3, float("inf"), "0", "9"]
    frames: list[tuple[Any, tuple[str, ...]]] = [
        (json.dumps({"type": "resume", "token": hostile.token, "last_seq": v}), ("bad_field",))
        for v in values
    ]
    digits = json.dumps({"type": "resume", "token": hostile.token})[:-1]
    frames.append((digits + ', "last_seq": ' + "9" * 5000 + "}", ("bad_frame", "bad_field")))
    await refused(hostile, calm, frames)
    await nothing_lost(hostile.conversation, hostile.token, hostile.acked)
    await finish(hostile, calm)


@consumer_test
async def test_replaying_a_send_frame_stores_it_once() -> None:
    """The same ``send`` (same client_id) sent again and again gets the same seq every time;
    one message is stored, and a replay with other text cannot change it."""
    hostile, calm = await visitor_scene()
    frame = hostile.send_frame("replayed", "only once")
    seqs = set()
    for _ in range(25):
        await hostile.send(frame)
        seqs.add((await hostile.until("ack"))["seq"])
    assert seqs == {2}
    hostile.acked[2] = "only once"
    await hostile.say()
    await hostile.send(hostile.send_frame("replayed", "rewritten history"))
    assert (await hostile.until("ack"))["seq"] == 2
    rows = await database_sync_to_async(
        lambda: list(
            Message.objects.filter(
                conversation_id=hostile.conversation, client_id="replayed"
            ).values_list("seq", "text")
        )
    )()
    assert rows == [(2, "only once")]
    await still_works(hostile, calm)
    await nothing_lost(hostile.conversation, hostile.token, hostile.acked)
    await finish(hostile, calm)


@consumer_test
async def test_replaying_start_opens_no_second_conversation() -> None:
    """``start`` on a socket that has a conversation is ``already_started``, every time."""
    hostile, calm = await visitor_scene()
    await refused(hostile, calm, [({"type": "start"}, ("already_started",))] * 10)
    assert await database_sync_to_async(Conversation.objects.count)() == 2
    await nothing_lost(hostile.conversation, hostile.token, hostile.acked)
    await finish(hostile, calm)


@consumer_test
async def test_a_counsellor_cannot_forge_sequence_numbers(anna) -> None:  # type: ignore[no-untyped-def]
    """``read`` beyond the stream marks only up to its end; ``open`` beyond it gets an empty
    history; a ``seq`` in ``send`` is ignored."""
    console, held, calm = await console_scene(anna)
    await console.send({"type": "read", "conversation": held.conversation, "seq": 2**31 - 1})
    assert (await console.until("read"))["seq"] == 2
    marked = await database_sync_to_async(
        lambda: Conversation.objects.get(pk=held.conversation).counsellor_read_seq
    )()
    assert marked == 2
    await still_works(console, calm)
    await console.send({"type": "open", "conversation": held.conversation, "last_seq": 2**31 - 1})
    assert (await console.until("history"))["messages"] == []
    await still_works(console, calm)
    await console.send({**console.send_frame("forged", "numbered by me"), "seq": 1})
    ack = await console.until("ack")
    assert ack["seq"] == max(console.acked) + 1
    console.acked[ack["seq"]] = "numbered by me"
    assert await stored_text(held.conversation, 1) == ""  # the "joined" entry, untouched
    await still_works(console, calm)
    await nothing_lost(held.conversation, held.token, console.acked)
    await finish(console, held, calm)


# --- another conversation's identifiers --------------------------------------------------------

TOKEN_MUTATIONS: dict[str, Callable[[str, str], str]] = {
    "last character changed": lambda t, c: t[:-1] + ("A" if t[-1] != "A" else "B"),
    "first character changed": lambda t, c: ("A" if t[0] != "A" else "B") + t[1:],
    "middle character changed": lambda t, c: t[:20] + ("x" if t[20] != "x" else "y") + t[21:],
    "one shorter": lambda t, c: t[:-1],
    "one longer": lambda t, c: t + "A",
    "case swapped": lambda t, c: t.swapcase(),
    "white space around": lambda t, c: f" {t} ",
    "doubled": lambda t, c: t + t,
    "the conversation's UUID": lambda t, c: c,
    "the conversation's UUID in hex": lambda t, c: uuid.UUID(c).hex,
    "the hash stored in the database": lambda t, c: hashlib.sha256(t.encode()).hexdigest(),
    "an SQL wildcard": lambda t, c: "%",
    "SQL injection": lambda t, c: "' OR '1'='1",
    "one character too long": lambda t, c: "A" * (MAX_TOKEN_LENGTH + 1),
    "empty": lambda t, c: "",
}


@consumer_test
async def test_only_the_exact_token_resumes_a_conversation() -> None:
    """A token one character off, of the wrong length, the conversation's UUID, or even the
    hash stored in the database finds nothing (``not_found``, or ``bad_field`` for a token
    that cannot be one, always for a length outside 1-128), from a socket with a chat or
    without; only the exact token resumes."""
    hostile, calm = await visitor_scene()
    await calm.say("private words")
    stranger = Party(await connect("/ws/visitor/"), set())
    for name, mutate in TOKEN_MUTATIONS.items():
        forged = mutate(calm.token, calm.conversation)
        with hostile_input(f"{name}: {forged!r}"):
            assert forged != calm.token
            fits = 0 < len(forged) <= MAX_TOKEN_LENGTH
            expected = ("not_found", "bad_field") if fits else ("bad_field",)
            for party in (hostile, stranger):
                await party.send({"type": "resume", "token": forged, "last_seq": 0})
                error = await party.error(*expected)
                assert "private" not in json.dumps(error)
            await still_works(hostile, calm)
    await stranger.send({"type": "resume", "token": calm.token, "last_seq": 0})
    stranger.own = {calm.conversation}
    assert (await stranger.until("welcome"))["conversation"] == calm.conversation
    history = await stranger.until("history")
    assert [m["text"] for m in history["messages"]] == list(calm.acked.values())
    await nothing_lost(hostile.conversation, hostile.token, hostile.acked)
    await finish(hostile, calm, stranger)


@consumer_test
async def test_a_bound_socket_cannot_switch_to_another_conversation() -> None:
    """Even the other visitor's exact token does not move a socket that has a chat: it is
    ``already_started``, and the socket gets nothing of the other conversation."""
    hostile, calm = await visitor_scene()
    await hostile.send({"type": "resume", "token": calm.token, "last_seq": 0})
    await hostile.error("already_started")
    await calm.say("not for the other socket")
    await still_works(hostile, calm)  # every frame hostile gets is checked: none of calm's
    await nothing_lost(hostile.conversation, hostile.token, hostile.acked)
    await finish(hostile, calm)


COUNSELLOR_PROBES: dict[str, dict[str, Any]] = {
    "open": {"last_seq": 0},
    "accept": {},
    "send": {"client_id": "probe", "text": "hello?"},
    "typing": {},
    "read": {"seq": 1},
    "end": {},
    "block": {},
}


async def _colleagues_conversation(ben: Any) -> Visitor:
    victim = await new_visitor()
    await victim.say("for ben only")
    await database_sync_to_async(services.conversation_accept)(
        conversation_id=victim.conversation, counsellor=ben
    )
    return victim


@consumer_test
async def test_a_counsellor_gets_nothing_of_a_colleagues_or_an_unknown_conversation(
    anna,  # type: ignore[no-untyped-def]
    ben,  # type: ignore[no-untyped-def]
) -> None:
    """A colleague's conversation (however its id is spelled) or one that does not exist, in
    every console frame type: ``not_found`` (``accept`` of a colleague's conversation is the
    documented ``unavailable``), never data; the colleague's conversation is unchanged."""
    victim = await _colleagues_conversation(ben)
    colleague = victim.conversation
    console, held, calm = await console_scene(anna)
    # The colleague's id and an unknown one in every frame type; other spellings of the
    # colleague's id (uuid.UUID() reads them all) and the extreme UUIDs in the frames that
    # would return or change something.
    every_type = {colleague: True, str(uuid.uuid4()): False}
    spellings = {
        colleague.upper(): True,
        "{" + colleague + "}": True,
        f"urn:uuid:{colleague}": True,
        uuid.UUID(colleague).hex: True,
        str(uuid.UUID(int=0)): False,
        str(uuid.UUID(int=2**128 - 1)): False,
    }
    probes = [
        (target, exists, t) for target, exists in every_type.items() for t in COUNSELLOR_PROBES
    ]
    probes += [
        (target, exists, t) for target, exists in spellings.items() for t in ("open", "send")
    ]
    frames = [
        (
            {"type": frame_type, "conversation": target, **COUNSELLOR_PROBES[frame_type]},
            ("unavailable",) if exists and frame_type == "accept" else ("not_found",),
        )
        for target, exists, frame_type in probes
    ]
    await refused(console, calm, frames)
    after = await database_sync_to_async(
        lambda: Conversation.objects.values(
            "status", "counsellor_id", "last_seq", "counsellor_read_seq", "blocked"
        ).get(pk=colleague)
    )()
    assert after == {
        "status": "active",
        "counsellor_id": ben.id,
        "last_seq": 2,
        "counsellor_read_seq": 0,
        "blocked": False,
    }
    await victim.say("still private")
    await nothing_lost(held.conversation, held.token, console.acked)
    await nothing_lost(victim.conversation, victim.token, victim.acked)
    await finish(console, held, calm, victim)


@consumer_test
async def test_malformed_conversation_ids_are_bad_field(anna, ben) -> None:  # type: ignore[no-untyped-def]
    """Ids that are not UUIDs (SQL, a path, a visitor's token, a colleague's id one character
    off or with NUL, empty, lists, objects) are ``bad_field`` in every console frame type."""
    victim = await _colleagues_conversation(ben)
    colleague = victim.conversation
    console, held, calm = await console_scene(anna)
    malformed: list[Any] = [
        *("' OR 1=1 --", "../../etc/passwd", victim.token, colleague[:-1], colleague + "0"),
        *(colleague + "\x00", colleague.replace("-", "_"), "", [colleague], {"id": colleague}),
    ]
    # Every malformed id with ``open`` (the frame that returns data); two in every other type
    # (the wrong-type test above adds more to each).
    probes = [("open", value) for value in malformed]
    probes += [(t, v) for t in COUNSELLOR_PROBES if t != "open" for v in malformed[:2]]
    frames = [
        (
            {"type": frame_type, "conversation": value, **COUNSELLOR_PROBES[frame_type]},
            ("bad_field",),
        )
        for frame_type, value in probes
    ]
    await refused(console, calm, frames)
    status = await database_sync_to_async(lambda: Conversation.objects.get(pk=colleague).status)()
    assert status == "active"
    await nothing_lost(held.conversation, held.token, console.acked)
    await finish(console, held, calm, victim)


# --- SQL-looking text --------------------------------------------------------------------------

SQL = [
    "'; DROP TABLE chat_message; --",
    '" OR 1=1 --',
    "' OR '1'='1",
    "1; DELETE FROM chat_conversation WHERE 1=1; --",
    "' UNION SELECT token_hash, id FROM chat_conversation --",
    "%' OR '%'='",
    "\\'; DROP TABLE auth_user; --",
    "Robert'); DROP TABLE students;--",
]


@consumer_test
async def test_sql_looking_text_is_stored_verbatim_and_the_tables_stay() -> None:
    """SQL in a message, in a client_id or as a token is just text: stored and returned
    verbatim, finds no conversation, and every table and row is still there afterwards."""
    hostile, calm = await visitor_scene()
    for text in SQL:
        with hostile_input(text):
            ack = await hostile.post(f"sql-{next(_client_ids)}", text)
            echoed = await hostile.until(
                "message", lambda f, s=ack["seq"]: f["message"]["seq"] == s
            )
            assert echoed["message"]["text"] == text
            # As a client_id: refused, or stored and echoed exactly.
            client_id = text[:MAX_CLIENT_ID_LENGTH]
            await hostile.send(hostile.send_frame(client_id, "sql as id"))
            answer = await hostile.answer()
            if answer["type"] == "error":
                assert answer["code"] == "bad_field", answer
                assert answer.get("client_id", client_id) == client_id, answer
            else:
                assert (answer["type"], answer["client_id"]) == ("ack", client_id), answer
                hostile.acked[answer["seq"]] = "sql as id"
            # As a token: finds nothing.
            await hostile.send({"type": "resume", "token": text, "last_seq": 0})
            await hostile.error("not_found", "bad_field")
            await still_works(hostile, calm)

    def tables() -> tuple[set[str], int, int]:
        names = set(connection.introspection.table_names())
        return names, Conversation.objects.count(), Message.objects.count()

    names, conversations, messages = await database_sync_to_async(tables)()
    assert {"chat_message", "chat_conversation", "auth_user"} <= names
    assert (conversations, messages) == (2, len(hostile.acked) + len(calm.acked))
    await nothing_lost(hostile.conversation, hostile.token, hostile.acked)
    await finish(hostile, calm)


# --- the sign-in forms -------------------------------------------------------------------------

ALERT = re.compile(r'<p class="error" role="alert"[^>]*>(.*?)</p>', re.S)
HOSTILE_SIGN_INS: list[tuple[str, str, str]] = [
    ("sql-user", "' OR 1=1 --", "wrong"),
    ("sql-comment-right-password", "anna' --", PASSWORD),
    ("sql-both", "anna' OR '1'='1", "' OR '1'='1"),
    ("like-wildcard", "anna%", PASSWORD),
    ("long-user", "u" * 10_000, "wrong"),
    ("long-password", "anna", "p" * 10_000),
    ("long-both", "u" * 10_000, "p" * 10_000),
    ("html-user", "<script>alert(1)</script>", "wrong"),
    ("html-attribute", '"><img src=x onerror=alert(1)>', "wrong"),
    ("template-user", "{{ 7*7 }}{% debug %}", "wrong"),
    ("rlo-user", "\u202eanna", PASSWORD),
    ("nul-user-right-password", "anna\x00", PASSWORD),
    ("only-nul", "\x00", "x"),
    ("nul-password", "anna", PASSWORD + "\x00"),
]


def _sign_ins() -> list[Any]:
    return [pytest.param(u, p, id=name) for name, u, p in HOSTILE_SIGN_INS]


def _no_raw_markup(html: str, value: str) -> None:
    if any(c in value for c in '<>"'):
        assert value not in html, "the page echoes the input unescaped"


def _reset_throttle(*names: str) -> None:
    for name in names:
        throttle.record_success(username=name)


@pytest.mark.django_db
@pytest.mark.parametrize(("username", "password"), _sign_ins())
def test_hostile_console_sign_in_gets_the_calm_error(
    counsellor, username: str, password: str
) -> None:  # type: ignore[no-untyped-def]
    """SQL-looking, very long, NUL-carrying or HTML user names and passwords get the normal
    form error (status 200, an error shown; the same calm words as a wrong password for
    anything that reaches the password check; NUL is refused before it, with the field's own
    error), never a 500, never a session; the page does not echo them unescaped."""
    _reset_throttle(username, "nobody-here")
    client = Client(raise_request_exception=False)
    baseline = client.post("/en/console/login/", {"username": "nobody-here", "password": "wrong"})
    calm_words = ALERT.findall(baseline.content.decode())
    assert calm_words, "the wrong-password page has no error text to compare with"
    response = client.post("/en/console/login/", {"username": username, "password": password})
    assert response.status_code == 200
    html = response.content.decode()
    shown = ALERT.findall(html)
    assert shown and all(text.strip() for text in shown), "no error shown"
    if "\x00" not in username + password:
        assert shown == calm_words
    assert "_auth_user_id" not in client.session
    _no_raw_markup(html, username)
    _reset_throttle(username, "nobody-here")


@pytest.mark.django_db
@pytest.mark.parametrize(("username", "password"), _sign_ins())
def test_hostile_admin_sign_in_gets_a_form_error(counsellor, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """The admin sign-in (the same throttled form) answers with a form error, never a 500 or
    a session, and escapes the user name it puts back in the field."""
    _reset_throttle(username)
    client = Client(raise_request_exception=False)
    response = client.post("/admin/login/", {"username": username, "password": password})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="errornote"' in html
    assert "_auth_user_id" not in client.session
    _no_raw_markup(html, username)
    _reset_throttle(username)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "code",
    [
        "' OR 1=1 --",
        "1" * 10_000,
        "123456\x00",
        "\x00",
        "<script>alert(1)</script>",
        "{{ 7*7 }}",
        "",
    ],
    ids=["sql", "long", "nul", "only-nul", "html", "template", "empty"],
)
def test_hostile_second_factor_codes_get_the_calm_error(counsellor, code: str) -> None:  # type: ignore[no-untyped-def]
    """The code form of the second step: a form error (status 200, ``role="alert"``), no
    verified session, nothing echoed."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from haven.accounts.models import SealedTOTPDevice

    SealedTOTPDevice.with_new_key(user=counsellor, name="phone", confirmed=True).save()
    client = Client(raise_request_exception=False)
    client.force_login(counsellor)
    response = client.post("/en/console/two-factor/", {"token": code})
    assert response.status_code == 200
    html = response.content.decode()
    assert ALERT.findall(html), "no error shown"
    assert DEVICE_ID_SESSION_KEY not in client.session
    _no_raw_markup(html, code)


# --- clean_text, as a property -----------------------------------------------------------------

SPECIAL = st.sampled_from(
    [
        *"\x00\x01\x07\x08\t\n\x0b\x0c\r\x1b\x1f\x7f \u00a0\u0085\u2028\u2029\ufeff",
        *BIDI_CONTROLS,
        "\u200e",
        "\u200f",
        "\r\n",
        "ש",
        "ع",
    ]
)


@given(st.lists(st.one_of(st.characters(), SPECIAL), max_size=60).map("".join))
@example("\r\n\x00 \u202e\r")
@example(" \x00 a \x00 ")
@example("\x1c\x1d\x1e\x1f")
def test_clean_text_leaves_nothing_hostile_and_is_idempotent(text: str) -> None:
    """For any text: no C0 controls but newline and tab, no DEL, no bidi embedding, override
    or isolate controls, no surrounding white space, nothing added; and cleaning twice is
    cleaning once."""
    cleaned = clean_text(text)
    assert all(c in "\n\t" or ord(c) >= 0x20 for c in cleaned)
    assert "\x7f" not in cleaned
    assert not set(cleaned) & set(BIDI_CONTROLS)
    assert cleaned == cleaned.strip()
    assert set(cleaned) <= set(text.replace("\r", "\n"))
    assert clean_text(cleaned) == cleaned
