"""Return codes over the visitor's WebSocket, through the real ASGI app.

A visitor asks for a code during a chat and gets a phrase of words, on that socket only;
typing it in a later chat links both chats to one case. Anything wrong with a code gets
the same calm answer, so a guess learns nothing.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from haven.asgi import application
from haven.audit.models import AuditEntry
from haven.cases import returncodes
from haven.cases.models import ReturnCode
from haven.chat.models import Conversation, Message
from haven.chat.protocol import MAX_RETURN_CODE_LENGTH
from haven.chat.tests.test_consumers import (
    ORIGIN,
    TIMEOUT,
    connect_console,
    receive,
    receive_until,
    start_visitor,
)
from haven.core.logging import RedactAddressesFilter

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

INVALID = "return_code_invalid"


@pytest.fixture
def anna(make_counsellor):  # type: ignore[no-untyped-def]
    return make_counsellor("anna")


async def collect(communicator: WebsocketCommunicator, *frame_types: str) -> dict[str, Any]:
    """The first frame of each of ``frame_types``, in whatever order they arrive (a reply
    to the socket and a group event race); other frames are skipped."""
    found: dict[str, Any] = {}
    for _ in range(30):
        if set(frame_types) <= set(found):
            return found
        frame = await receive(communicator)
        if frame["type"] in frame_types:
            found.setdefault(frame["type"], frame)
    raise AssertionError(f"missing {set(frame_types) - set(found)}; got {found}")


async def drain(communicator: WebsocketCommunicator, wait: float = 0.3) -> list[dict[str, Any]]:
    """Every frame that arrives within ``wait`` seconds."""
    frames = []
    while not await communicator.receive_nothing(timeout=wait):
        frames.append(await receive(communicator))
    return frames


async def ask_for_code(visitor: WebsocketCommunicator) -> str:
    await visitor.send_json_to({"type": "return_code_request"})
    reply = await receive_until(visitor, "return_code")
    assert set(reply) == {"type", "code"}
    return str(reply["code"])


async def use_code(visitor: WebsocketCommunicator, code: str) -> dict[str, Any]:
    """Send ``code`` and return the answer: ``return_code_accepted`` or ``error``."""
    await visitor.send_json_to({"type": "return_code_use", "code": code})
    for _ in range(20):
        frame = await receive(visitor)
        if frame["type"] in {"return_code_accepted", "error"}:
            return frame
    raise AssertionError("no answer to return_code_use")


async def end(visitor: WebsocketCommunicator) -> None:
    await visitor.send_json_to({"type": "end"})
    await receive_until(visitor, "state")


@database_sync_to_async
def case_of(conversation: str) -> Any:
    return Conversation.objects.get(pk=conversation).case_id


@database_sync_to_async
def returned_entries(conversation: str) -> int:
    return Message.objects.filter(conversation_id=conversation, kind=Message.Kind.RETURNED).count()


@database_sync_to_async
def everything_stored_about_codes() -> list[str]:
    """Every stored value where a phrase could have ended up: code rows, message texts
    (decrypted), audit details."""
    values: list[str] = []
    for row in ReturnCode.objects.values_list("code_hash", "case_id"):
        values.extend(str(value) for value in row)
    values.extend(Message.objects.values_list("text", flat=True))
    values.extend(
        json.dumps(detail) for detail in AuditEntry.objects.values_list("detail", flat=True)
    )
    return values


async def test_a_requested_code_is_four_words_sent_to_the_visitor_only(anna, caplog) -> None:
    """``return_code_request`` answers a ``return_code`` frame with four words from the word
    list, to the asking socket only: the counsellor's console gets nothing of it, the stream
    gets no entry, and neither the database (only a keyed hash of it) nor the log holds it."""
    caplog.set_level(logging.DEBUG)
    visitor, welcome = await start_visitor()
    conversation = welcome["conversation"]
    console, _ = await connect_console(anna)
    await console.send_json_to({"type": "accept", "conversation": conversation})
    await receive_until(console, "assigned")
    await receive_until(visitor, "state")
    await drain(console)

    phrase = await ask_for_code(visitor)
    words = phrase.split("-")
    assert len(words) == 4
    assert all(word in returncodes.WORDS for word in words)
    assert returncodes.looks_valid(returncodes.normalise(phrase))

    for frame in await drain(console):
        assert phrase not in json.dumps(frame)
    assert await visitor.receive_nothing(timeout=0.2)
    assert await returned_entries(conversation) == 0

    stored = await everything_stored_about_codes()
    assert stored, "no code row was stored"
    spaced = " ".join(words)
    for value in stored:
        assert phrase not in value and spaced not in value
    hashes = await database_sync_to_async(
        lambda: list(ReturnCode.objects.values_list("code_hash", flat=True))
    )()
    assert len(hashes) == 1 and hashes[0] != phrase and len(hashes[0]) == 64
    assert not [r.getMessage() for r in caplog.records if phrase in r.getMessage()]
    await visitor.disconnect()
    await console.disconnect()


async def test_a_code_links_a_later_chat_to_the_same_case_and_both_sides_see_it(anna) -> None:
    """The code from a first chat, typed in a second one (with spaces and capitals, as a
    visitor might), links both chats to one case. The visitor gets
    ``return_code_accepted``, and the visitor and the counsellor both get the stream's
    ``returned`` system entry, which is also in the history after a reconnect."""
    first, welcome = await start_visitor()
    phrase = await ask_for_code(first)
    await end(first)
    await first.disconnect()

    second, again = await start_visitor()
    conversation = again["conversation"]
    console, _ = await connect_console(anna)
    await console.send_json_to({"type": "accept", "conversation": conversation})
    await receive_until(console, "assigned")
    await receive_until(second, "state")

    typed = "  " + phrase.replace("-", " ").upper() + " "
    await second.send_json_to({"type": "return_code_use", "code": typed})
    seen = await collect(second, "return_code_accepted", "message")
    assert seen["return_code_accepted"] == {"type": "return_code_accepted"}
    for entry in (seen["message"], await receive_until(console, "message")):
        assert entry["conversation"] == conversation
        payload = entry["message"]
        assert (payload["sender"], payload["kind"], payload["text"]) == ("system", "returned", "")

    assert await case_of(conversation) is not None
    assert await case_of(conversation) == await case_of(welcome["conversation"])
    assert await database_sync_to_async(
        lambda: Conversation.objects.get(pk=conversation).returning
    )()

    # A reconnecting visitor sees the entry again, in the history.
    token = again["token"]
    await second.disconnect()
    back = WebsocketCommunicator(application, "/ws/visitor/", headers=[ORIGIN])
    assert (await back.connect(timeout=TIMEOUT))[0]
    await back.send_json_to({"type": "resume", "token": token, "last_seq": 0})
    history = await receive_until(back, "history")
    assert [m["kind"] for m in history["messages"]] == ["joined", "returned"]
    await back.disconnect()
    await console.disconnect()


async def test_wrong_expired_and_malformed_codes_get_the_same_answer(clock) -> None:
    """A wrong code, a code past HAVEN_RETURN_CODE_DAYS and something that is not a code at
    all get the identical ``error`` frame, which names no cause; nothing is linked."""
    from django.conf import settings

    first, _ = await start_visitor()
    phrase = await ask_for_code(first)
    await end(first)
    await first.disconnect()

    clock.advance(days=settings.HAVEN_RETURN_CODE_DAYS, seconds=1)
    second, welcome = await start_visitor()
    words = phrase.split("-")
    other = next(word for word in returncodes.WORDS if word != words[-1])
    wrong = "-".join([*words[:-1], other])

    expired = await use_code(second, phrase)
    assert expired["type"] == "error" and expired["code"] == INVALID
    assert expired["message"]
    assert set(expired) == {"type", "code", "message"}
    assert await use_code(second, wrong) == expired
    assert await use_code(second, "hello there") == expired
    assert await case_of(welcome["conversation"]) is None
    assert await returned_entries(welcome["conversation"]) == 0
    await second.disconnect()


async def test_after_too_many_tries_even_the_right_code_is_refused(settings) -> None:
    """After HAVEN_RETURN_CODE_ATTEMPTS wrong tries in a chat, the right code gets the same
    refusal as a wrong one: guessing does not pay, and the refusal says nothing more."""
    first, _ = await start_visitor()
    phrase = await ask_for_code(first)
    await end(first)
    await first.disconnect()

    second, welcome = await start_visitor()
    refusals = [
        await use_code(second, "aap-aap-aap-aap")
        for _ in range(settings.HAVEN_RETURN_CODE_ATTEMPTS)
    ]
    assert all(refusal["code"] == INVALID for refusal in refusals)
    assert await use_code(second, phrase) == refusals[0]
    assert await case_of(welcome["conversation"]) is None
    assert await returned_entries(welcome["conversation"]) == 0
    await second.disconnect()


async def test_tries_are_also_counted_per_source(settings) -> None:
    """The consumer passes the connection's hashed source on: tries from one address are
    counted across its chats, so a new chat does not buy new guesses."""
    settings.HAVEN_RETURN_CODE_ATTEMPTS_PER_SOURCE = 2

    async def from_one_address() -> tuple[WebsocketCommunicator, dict[str, Any]]:
        visitor = WebsocketCommunicator(application, "/ws/visitor/", headers=[ORIGIN])
        visitor.scope["client"] = ("192.0.2.7", 50000)  # documentation address, not a person
        assert (await visitor.connect(timeout=TIMEOUT))[0]
        await visitor.send_json_to({"type": "start"})
        welcome = await receive_until(visitor, "welcome")
        await receive_until(visitor, "history")
        return visitor, welcome

    first, _ = await start_visitor()
    phrase = await ask_for_code(first)
    await end(first)
    await first.disconnect()

    one, _ = await from_one_address()
    assert (await use_code(one, "aap-aap-aap-aap"))["code"] == INVALID
    two, welcome = await from_one_address()
    assert (await use_code(two, "aap-aap-aap-aap"))["code"] == INVALID
    refused = await use_code(two, phrase)
    assert refused["code"] == INVALID
    assert await case_of(welcome["conversation"]) is None
    await one.disconnect()
    await two.disconnect()


async def test_return_code_frames_need_a_running_chat() -> None:
    """Before ``start`` or ``resume`` both frames get ``no_conversation``; after the chat has
    ended, ``conversation_ended``. No code is issued and nothing is linked."""
    visitor = WebsocketCommunicator(application, "/ws/visitor/", headers=[ORIGIN])
    assert (await visitor.connect(timeout=TIMEOUT))[0]
    for frame in ({"type": "return_code_request"}, {"type": "return_code_use", "code": "a b"}):
        await visitor.send_json_to(frame)
        assert (await receive(visitor))["code"] == "no_conversation"

    first, _ = await start_visitor()
    phrase = await ask_for_code(first)
    await end(first)
    await first.disconnect()

    ended, welcome = await start_visitor()
    await end(ended)
    await ended.send_json_to({"type": "return_code_request"})
    refused = await receive_until(ended, "error")
    assert refused["code"] == "conversation_ended"
    assert (await use_code(ended, phrase))["code"] == "conversation_ended"
    assert await case_of(welcome["conversation"]) is None
    assert await database_sync_to_async(ReturnCode.objects.count)() == 1
    await visitor.disconnect()
    await ended.disconnect()


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "return_code_use"},
        {"type": "return_code_use", "code": ""},
        {"type": "return_code_use", "code": "x" * (MAX_RETURN_CODE_LENGTH + 1)},
        {"type": "return_code_use", "code": 1234},
        {"type": "return_code_use", "code": ["aap", "beer"]},
        {"type": "return_code_use", "code": "aap\udc80"},
    ],
    ids=["missing", "empty", "too-long", "number", "list", "lone-surrogate"],
)
async def test_malformed_return_code_frames_are_refused_and_the_chat_goes_on(
    frame: dict[str, Any],
) -> None:
    """A ``return_code_use`` without a usable ``code`` (missing, empty, over 200 characters,
    not a string, not valid text) is ``bad_field``, and the connection stays open and
    working."""
    visitor, _ = await start_visitor()
    await visitor.send_to(text_data=json.dumps(frame))
    refused = await receive(visitor)
    assert refused["type"] == "error" and refused["code"] == "bad_field"
    phrase = await ask_for_code(visitor)
    assert returncodes.looks_valid(phrase)
    await visitor.send_json_to({"type": "send", "client_id": "still-here", "text": "hallo"})
    assert (await receive_until(visitor, "ack"))["client_id"] == "still-here"
    await visitor.disconnect()


async def test_return_code_frames_count_for_flood_control(settings) -> None:
    """Return-code frames cost tokens like any frame: past the burst they are refused with
    ``rate_limited`` and not processed (no code issued)."""
    settings.HAVEN_RATE_BURST = 3
    settings.HAVEN_RATE_PER_SECOND = 0.0
    visitor, _ = await start_visitor()  # one token
    await ask_for_code(visitor)
    await ask_for_code(visitor)
    await visitor.send_json_to({"type": "return_code_request"})
    refused = await receive(visitor)
    assert refused["code"] == "rate_limited"
    assert await database_sync_to_async(ReturnCode.objects.count)() == 2
    await visitor.disconnect()


async def test_the_wire_trace_that_would_show_a_code_is_never_logged() -> None:
    """At DEBUG the websockets library traces every frame ("> TEXT '{...}'"), a return code
    included; Haven's log filter drops those lines whole and keeps uvicorn's others."""
    frame = json.dumps({"type": "return_code", "code": "aap-beer-kat-vis"})
    trace = logging.LogRecord(
        "uvicorn.error", logging.DEBUG, __file__, 1, "> %s", (f"TEXT '{frame}'",), None
    )
    assert RedactAddressesFilter().filter(trace) is False
    other = logging.LogRecord(
        "uvicorn.error", logging.INFO, __file__, 1, "%s [accepted]", ("WebSocket /ws/",), None
    )
    assert RedactAddressesFilter().filter(other) is True
