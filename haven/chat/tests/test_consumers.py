"""Consumer tests through the real ASGI stack (origin check, sessions, address stripping)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from haven.asgi import application
from haven.chat.models import Conversation, Message
from haven.conftest import sign_in_fully

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

ORIGIN = (b"origin", b"http://127.0.0.1")
TIMEOUT = 5


async def connect(
    path: str, headers: list[tuple[bytes, bytes]] | None = None
) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path, headers=[ORIGIN, *(headers or [])])
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return communicator


async def receive(communicator: WebsocketCommunicator) -> dict[str, Any]:
    return await communicator.receive_json_from(timeout=TIMEOUT)


async def receive_until(communicator: WebsocketCommunicator, frame_type: str) -> dict[str, Any]:
    """Skip frames of other types (queue updates and the like) until one of ``frame_type``."""
    for _ in range(20):
        frame = await receive(communicator)
        if frame["type"] == frame_type:
            return frame
    raise AssertionError(f"no {frame_type} frame")


async def receive_each(communicator: WebsocketCommunicator, *frame_types: str) -> dict[str, Any]:
    """The first frame of each of ``frame_types``, in whatever order they come.

    A visitor's own message and its ack are sent by different tasks (the broadcast and the
    acknowledgement), so either may arrive first; waiting for one with ``receive_until`` would
    skip the other."""
    found: dict[str, Any] = {}
    for _ in range(20):
        frame = await receive(communicator)
        if frame["type"] in frame_types:
            found.setdefault(frame["type"], frame)
        if len(found) == len(frame_types):
            return found
    raise AssertionError(f"only {sorted(found)} of {frame_types}")


async def start_visitor() -> tuple[WebsocketCommunicator, dict[str, Any]]:
    visitor = await connect("/ws/visitor/")
    await visitor.send_json_to({"type": "start"})
    welcome = await receive(visitor)
    history = await receive(visitor)
    assert history["type"] == "history"
    return visitor, welcome


@database_sync_to_async
def session_cookie(user, *, second_factor: bool = True) -> tuple[bytes, bytes]:  # type: ignore[no-untyped-def]
    """A session cookie for ``user``: signed in with the second factor unless told otherwise."""
    client = Client()
    if second_factor:
        sign_in_fully(client, user)
    else:
        client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def connect_console(user) -> tuple[WebsocketCommunicator, dict[str, Any]]:  # type: ignore[no-untyped-def]
    console = await connect("/ws/console/", [await session_cookie(user)])
    hello = await receive(console)
    assert hello["type"] == "hello"
    return console, hello


@pytest.fixture
def anna(make_counsellor):  # type: ignore[no-untyped-def]
    return make_counsellor("anna")


@pytest.fixture
def ben(make_counsellor):  # type: ignore[no-untyped-def]
    return make_counsellor("ben")


async def test_visitor_start_gives_a_token_and_a_place_in_the_queue() -> None:
    """``start`` answers ``welcome`` with the secret token and position 1, then an empty history."""
    visitor, welcome = await start_visitor()
    assert welcome["status"] == "waiting"
    assert welcome["position"] == 1
    assert len(welcome["token"]) >= 40
    await visitor.disconnect()


async def test_visitor_message_is_acknowledged_with_its_number_after_storage(anna) -> None:
    """The ack carries the sequence number; the message is in the database by then, and comes
    back to the visitor as a message frame (before or after the ack)."""
    visitor, welcome = await start_visitor()
    await visitor.send_json_to({"type": "send", "client_id": "m1", "text": "Hallo"})
    frames = await receive_each(visitor, "ack", "message")
    ack = frames["ack"]
    assert ack == {
        "type": "ack",
        "conversation": welcome["conversation"],
        "client_id": "m1",
        "seq": 1,
    }
    stored = await database_sync_to_async(
        lambda: list(Message.objects.values_list("seq", "text"))
    )()
    assert stored == [(1, "Hallo")]
    assert frames["message"]["message"]["text"] == "Hallo"
    await visitor.disconnect()


async def test_counsellor_sees_waiting_messages_in_the_queue_and_on_accepting(anna) -> None:
    """What a visitor writes while waiting shows in the live queue and in the history on accept."""
    console, hello = await connect_console(anna)
    assert hello["queue"] == [] and hello["conversations"] == []
    visitor, welcome = await start_visitor()
    joined = await receive_until(console, "queue_entry")
    assert joined["entry"]["conversation"] == welcome["conversation"]
    assert (joined["entry"]["message_count"], joined["entry"]["seq"]) == (0, 0)
    await visitor.send_json_to({"type": "send", "client_id": "m1", "text": "I need help"})
    entry = (await receive_until(console, "queue_entry"))["entry"]
    assert (entry["preview"], entry["message_count"], entry["seq"]) == ("I need help", 1, 1)

    await console.send_json_to({"type": "accept", "conversation": welcome["conversation"]})
    assigned = await receive_until(console, "assigned")
    assert assigned["conversation"]["conversation"] == welcome["conversation"]
    assert assigned["conversation"]["unread"] == 1
    left = await receive_until(console, "queue_leave")
    assert (left["conversation"], left["seq"]) == (welcome["conversation"], 2)
    await console.send_json_to(
        {"type": "open", "conversation": welcome["conversation"], "last_seq": 0}
    )
    history = await receive_until(console, "history")
    assert [(m["seq"], m["kind"]) for m in history["messages"]] == [(1, "text"), (2, "joined")]

    state = await receive_until(visitor, "state")
    assert state["status"] == "active"
    await visitor.disconnect()
    await console.disconnect()


async def accepted(counsellor) -> tuple[WebsocketCommunicator, WebsocketCommunicator, str]:  # type: ignore[no-untyped-def]
    """A visitor's chat, accepted by ``counsellor``: both sockets (each past the accept's
    frames) and the conversation."""
    visitor, welcome = await start_visitor()
    console = await accept_as(counsellor, visitor, welcome)
    return visitor, console, welcome["conversation"]


async def accept_as(counsellor, visitor, welcome) -> WebsocketCommunicator:  # type: ignore[no-untyped-def]
    """``counsellor`` opens a console and accepts the visitor's chat; both sockets past the
    accept's frames. The console."""
    console, _ = await connect_console(counsellor)
    await console.send_json_to({"type": "accept", "conversation": welcome["conversation"]})
    await receive_until(console, "assigned")
    await receive_until(visitor, "state")
    return console


async def test_messages_flow_both_ways_with_typing(anna) -> None:
    """Counsellor replies and typing reach the visitor; the visitor's words reach the console."""
    visitor, console, conversation = await accepted(anna)

    await console.send_json_to({"type": "typing", "conversation": conversation})
    typing = await receive_until(visitor, "typing")
    assert typing["sender"] == "counsellor"
    await console.send_json_to(
        {"type": "send", "conversation": conversation, "client_id": "r1", "text": "Hoi, ik ben er"}
    )
    assert (await receive_until(console, "ack"))["seq"] == 2
    reply = await receive_until(visitor, "message")
    assert (reply["message"]["sender"], reply["message"]["text"]) == (
        "counsellor",
        "Hoi, ik ben er",
    )

    await visitor.send_json_to({"type": "typing"})
    assert (await receive_until(console, "typing"))["sender"] == "visitor"
    await visitor.send_json_to({"type": "send", "client_id": "v1", "text": "Dank je"})
    incoming = await receive_until(console, "message")
    assert (incoming["message"]["sender"], incoming["message"]["seq"]) == ("visitor", 3)

    await visitor.send_json_to({"type": "end"})
    ended = await receive_until(console, "state")
    assert (ended["status"], ended["ended_by"]) == ("ended", "visitor")
    await visitor.disconnect()
    await console.disconnect()


async def test_two_consoles_accepting_at_once_one_wins_one_is_told(anna, ben) -> None:
    """Both read along and press accept together: one is assigned, the other gets ``unavailable``
    with a clear message and a ``taken`` state, and receives nothing more of that chat."""
    visitor, welcome = await start_visitor()
    conversation = welcome["conversation"]
    consoles = [(await connect_console(anna))[0], (await connect_console(ben))[0]]
    for console in consoles:
        await console.send_json_to({"type": "open", "conversation": conversation, "last_seq": 0})
        await receive_until(console, "history")
    for console in consoles:
        await console.send_json_to({"type": "accept", "conversation": conversation})

    outcomes: list[dict[str, dict[str, Any]]] = []
    for console in consoles:
        seen: dict[str, dict[str, Any]] = {}
        while not ({"assigned", "state"} <= set(seen) or {"error", "state"} <= set(seen)):
            frame = await receive(console)
            seen[frame["type"]] = frame
        outcomes.append(seen)
    winners = [i for i, seen in enumerate(outcomes) if "assigned" in seen]
    assert len(winners) == 1
    winner, loser = consoles[winners[0]], consoles[1 - winners[0]]
    lost = outcomes[1 - winners[0]]
    assert lost["error"]["code"] == "unavailable"
    assert lost["error"]["conversation"] == conversation
    assert lost["error"]["message"]
    assert lost["state"]["status"] == "taken"
    assert outcomes[winners[0]]["state"]["status"] == "active"

    await visitor.send_json_to({"type": "send", "client_id": "after", "text": "private now"})
    await receive_until(winner, "message")
    frames = []
    while not await loser.receive_nothing(timeout=0.3):
        frames.append(await receive(loser))
    assert all(f["type"] in {"queue_entry", "queue_leave"} for f in frames)
    await loser.send_json_to({"type": "open", "conversation": conversation, "last_seq": 0})
    assert (await receive_until(loser, "error"))["code"] == "not_found"
    for communicator in (visitor, *consoles):
        await communicator.disconnect()


async def test_resume_after_a_dropped_connection_sends_only_what_was_missed(anna) -> None:
    """A new socket with the token and the last number seen gets the rest, once, in order."""
    visitor, welcome = await start_visitor()
    for i in range(3):
        await visitor.send_json_to({"type": "send", "client_id": f"m{i}", "text": f"message {i}"})
        await receive_until(visitor, "ack")
    await visitor.disconnect()

    again = await connect("/ws/visitor/")
    await again.send_json_to({"type": "resume", "token": welcome["token"], "last_seq": 1})
    resumed = await receive(again)
    assert resumed["type"] == "welcome"
    assert "token" not in resumed
    assert resumed["last_seq"] == 3
    history = await receive(again)
    assert [m["seq"] for m in history["messages"]] == [2, 3]

    # The ack for "m2" was lost: sending it again returns its number and stores nothing new.
    await again.send_json_to({"type": "send", "client_id": "m2", "text": "message 2"})
    assert (await receive_until(again, "ack"))["seq"] == 3
    assert await again.receive_nothing(timeout=0.3) or (await receive(again))["type"] != "message"
    count = await database_sync_to_async(Message.objects.count)()
    assert count == 3
    await again.disconnect()


async def test_a_late_group_event_for_a_number_already_sent_is_dropped(anna) -> None:
    """A pub/sub channel layer may deliver a message's group event after the history that
    already held it; the visitor's socket sends each number once, and newer ones still."""
    from channels.layers import get_channel_layer

    from haven.chat.events import conversation_group, message_event

    visitor, welcome = await start_visitor()
    await visitor.send_json_to({"type": "send", "client_id": "m0", "text": "message 0"})
    await receive_until(visitor, "ack")
    await visitor.disconnect()

    again = await connect("/ws/visitor/")
    await again.send_json_to({"type": "resume", "token": welcome["token"], "last_seq": 0})
    await receive(again)
    history = await receive(again)
    assert [m["seq"] for m in history["messages"]] == [1]

    stored = await database_sync_to_async(Message.objects.get)(seq=1)
    group = conversation_group(uuid.UUID(welcome["conversation"]))
    late = {"type": "haven.event", "event": message_event(stored), "meta": {}}
    await get_channel_layer().group_send(group, late)
    # Other frames (a queue position) may come; a message may not.
    while not await again.receive_nothing(timeout=0.3):
        assert (await receive(again))["type"] != "message"

    await again.send_json_to({"type": "send", "client_id": "m1", "text": "message 1"})
    seen: dict[str, int] = {}
    while "ack" not in seen or "message" not in seen:
        frame = await receive(again)
        if frame["type"] == "ack":
            seen["ack"] = frame["seq"]
        elif frame["type"] == "message":
            seen["message"] = frame["message"]["seq"]
    assert seen == {"ack": 2, "message": 2}
    await again.disconnect()


async def test_resume_with_an_unknown_token_reveals_nothing() -> None:
    """A wrong token gets ``not_found``; the socket stays usable for a new chat."""
    visitor = await connect("/ws/visitor/")
    await visitor.send_json_to({"type": "resume", "token": "not-a-real-token", "last_seq": 0})
    error = await receive(visitor)
    assert error["code"] == "not_found"
    await visitor.send_json_to({"type": "start"})
    assert (await receive(visitor))["type"] == "welcome"
    await visitor.disconnect()


async def test_sending_before_start_is_refused_clearly() -> None:
    visitor = await connect("/ws/visitor/")
    await visitor.send_json_to({"type": "send", "client_id": "x", "text": "hello"})
    error = await receive(visitor)
    assert (error["code"], error["client_id"]) == ("no_conversation", "x")
    await visitor.disconnect()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "bad_frame"),
        ("[1, 2, 3]", "bad_frame"),
        ('"just a string"', "bad_frame"),
        ("{}", "unknown_type"),
        ('{"type": "launch"}', "unknown_type"),
        ('{"type": 7}', "unknown_type"),
        ('{"type": "send", "client_id": 5, "text": "x"}', "bad_field"),
        ('{"type": "send", "client_id": "a", "text": ["x"]}', "bad_field"),
        ('{"type": "send", "client_id": "", "text": "x"}', "bad_field"),
        ('{"type": "resume", "token": "t", "last_seq": -1}', "bad_field"),
        ('{"type": "resume", "token": "t", "last_seq": true}', "bad_field"),
        ('{"type": "send", "client_id": "a", "text": "' + "x" * 70000 + '"}', "frame_too_large"),
    ],
)
async def test_bad_frames_get_an_error_and_the_connection_lives_on(raw: str, code: str) -> None:
    """Malformed, unknown or wrongly typed frames answer ``error``; the next frame still works."""
    visitor, _ = await start_visitor()
    await visitor.send_to(text_data=raw)
    error = await receive(visitor)
    assert (error["type"], error["code"]) == ("error", code)
    assert error["message"]
    await visitor.send_json_to({"type": "send", "client_id": "ok", "text": "still here"})
    assert (await receive_until(visitor, "ack"))["seq"] == 1
    await visitor.disconnect()


async def test_binary_frames_are_refused_politely() -> None:
    visitor, _ = await start_visitor()
    await visitor.send_to(bytes_data=b"\xff\xfe\x00")
    assert (await receive(visitor))["code"] == "bad_frame"
    await visitor.disconnect()


async def test_a_too_long_message_is_refused_with_its_client_id() -> None:
    """The client learns which message was refused and why, so it can give the text back."""
    visitor, _ = await start_visitor()
    await visitor.send_json_to({"type": "send", "client_id": "long", "text": "x" * 4001})
    error = await receive(visitor)
    assert (error["code"], error["client_id"]) == ("too_long", "long")
    assert "4000" in error["message"]
    await visitor.disconnect()


async def test_errors_are_in_the_visitors_language() -> None:
    """The socket's ``lang`` decides the language of error messages (Dutch by default)."""
    dutch = await connect("/ws/visitor/")
    english = await connect("/ws/visitor/?lang=en")
    for communicator in (dutch, english):
        await communicator.send_json_to({"type": "launch"})
    nl_error, en_error = await receive(dutch), await receive(english)
    assert en_error["message"] == "Something went wrong. We did not understand this."
    assert nl_error["message"] != en_error["message"]
    await dutch.disconnect()
    await english.disconnect()


async def test_flooding_is_slowed_then_closed_without_losing_accepted_messages(settings) -> None:
    """After the burst: ``rate_limited`` with a retry time; keep pushing and the socket closes."""
    settings.HAVEN_RATE_BURST = 4
    settings.HAVEN_RATE_PER_SECOND = 0.01
    settings.HAVEN_RATE_STRIKES = 3
    visitor, welcome = await start_visitor()  # "start" spent one token
    acks = []
    for i in range(3):
        await visitor.send_json_to({"type": "send", "client_id": f"m{i}", "text": f"m{i}"})
        acks.append((await receive_until(visitor, "ack"))["seq"])
    assert acks == [1, 2, 3]
    await visitor.send_json_to({"type": "send", "client_id": "m3", "text": "m3"})
    limited = await receive_until(visitor, "error")
    assert limited["code"] == "rate_limited"
    assert limited["client_id"] == "m3"
    assert limited["retry_after"] > 0
    await visitor.send_json_to({"type": "send", "client_id": "m4", "text": "m4"})
    assert (await receive_until(visitor, "error"))["code"] == "rate_limited"
    await visitor.send_json_to({"type": "send", "client_id": "m5", "text": "m5"})
    flood = await receive_until(visitor, "error")
    assert flood["code"] == "flood"
    closed = await visitor.receive_output(timeout=TIMEOUT)
    assert closed == {"type": "websocket.close", "code": 4429}
    texts = await database_sync_to_async(
        lambda: list(Message.objects.order_by("seq").values_list("text", flat=True))
    )()
    assert texts == ["m0", "m1", "m2"]
    # The visitor comes back and finds everything that was accepted.
    again = await connect("/ws/visitor/")
    await again.send_json_to({"type": "resume", "token": welcome["token"], "last_seq": 0})
    await receive(again)
    assert [m["text"] for m in (await receive(again))["messages"]] == ["m0", "m1", "m2"]
    await again.disconnect()


async def test_one_flooding_visitor_does_not_disturb_another(settings) -> None:
    settings.HAVEN_RATE_BURST = 2
    settings.HAVEN_RATE_PER_SECOND = 0.01
    settings.HAVEN_RATE_STRIKES = 1
    calm, _ = await start_visitor()
    noisy, _ = await start_visitor()
    for raw in ("x", "y", "z"):
        await noisy.send_to(text_data=raw)
    await calm.send_json_to({"type": "send", "client_id": "c", "text": "fine"})
    assert (await receive_until(calm, "ack"))["seq"] == 1
    await calm.disconnect()
    await noisy.disconnect()


async def test_console_refuses_anonymous_and_non_counsellor_users(django_user_model) -> None:
    """No session, or a session without the counsel permission: closed at once with 4403,
    which (unlike a refused handshake) the browser sees, so the console stops retrying."""
    user = await database_sync_to_async(django_user_model.objects.create_user)(
        "outsider", password="x" * 20
    )
    for headers in ([ORIGIN], [ORIGIN, await session_cookie(user)]):
        communicator = WebsocketCommunicator(application, "/ws/console/", headers=headers)
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        assert connected
        closed = await communicator.receive_output(timeout=TIMEOUT)
        assert closed == {"type": "websocket.close", "code": 4403}


async def test_a_foreign_origin_is_refused() -> None:
    """A page on another site cannot open a socket to Haven in the visitor's browser."""
    communicator = WebsocketCommunicator(
        application, "/ws/visitor/", headers=[(b"origin", b"https://evil.example")]
    )
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert not connected


async def test_counsellor_cannot_touch_a_colleagues_conversation(anna, ben) -> None:
    """Sending, typing, reading or ending in someone else's conversation all say not found."""
    visitor, welcome = await start_visitor()
    conversation = welcome["conversation"]
    console_a, _ = await connect_console(anna)
    await console_a.send_json_to({"type": "accept", "conversation": conversation})
    await receive_until(console_a, "assigned")
    console_b, _ = await connect_console(ben)
    frames = [
        {"type": "send", "conversation": conversation, "client_id": "x", "text": "hi"},
        {"type": "typing", "conversation": conversation},
        {"type": "read", "conversation": conversation, "seq": 1},
        {"type": "end", "conversation": conversation},
        {"type": "open", "conversation": conversation, "last_seq": 0},
        {"type": "open", "conversation": str(uuid.uuid4()), "last_seq": 0},
    ]
    for frame in frames:
        await console_b.send_json_to(frame)
        assert (await receive_until(console_b, "error"))["code"] == "not_found", frame
    status = await database_sync_to_async(
        lambda: Conversation.objects.get(pk=conversation).status
    )()
    assert status == "active"
    for communicator in (visitor, console_a, console_b):
        await communicator.disconnect()


async def test_reading_in_one_console_clears_unread_in_the_others(anna) -> None:
    """A counsellor with two tabs: reading in one updates the other."""
    visitor, welcome = await start_visitor()
    conversation = welcome["conversation"]
    tab_1, _ = await connect_console(anna)
    tab_2, _ = await connect_console(anna)
    await tab_1.send_json_to({"type": "accept", "conversation": conversation})
    await receive_until(tab_1, "assigned")
    await receive_until(tab_2, "assigned")
    await visitor.send_json_to({"type": "send", "client_id": "m", "text": "are you there?"})
    await receive_until(tab_2, "message")
    await tab_1.send_json_to({"type": "read", "conversation": conversation, "seq": 2})
    assert (await receive_until(tab_2, "read"))["seq"] == 2
    _, hello = await connect_console(anna)
    assert hello["conversations"][0]["unread"] == 0
    for communicator in (visitor, tab_1, tab_2):
        await communicator.disconnect()


async def test_console_reconnect_lists_held_conversations_with_unread(anna) -> None:
    """After a reconnect the console is told which conversations it holds and what is unread."""
    visitor, welcome = await start_visitor()
    console, _ = await connect_console(anna)
    await console.send_json_to({"type": "accept", "conversation": welcome["conversation"]})
    await receive_until(console, "assigned")
    await console.disconnect()
    await visitor.send_json_to({"type": "send", "client_id": "1", "text": "hello?"})
    await receive_until(visitor, "ack")
    console, hello = await connect_console(anna)
    [held] = hello["conversations"]
    assert (held["conversation"], held["unread"], held["last_seq"]) == (
        welcome["conversation"],
        1,
        2,
    )
    # and it is subscribed again: live messages arrive without an "open"
    await visitor.send_json_to({"type": "send", "client_id": "2", "text": "hello again"})
    assert (await receive_until(console, "message"))["message"]["seq"] == 3
    await visitor.disconnect()
    await console.disconnect()


async def test_rate_limited_console_frames_name_their_conversation(anna, settings) -> None:
    """A refused reply says which conversation and which message, so the console retries it."""
    settings.HAVEN_CONSOLE_RATE_BURST = 1
    settings.HAVEN_CONSOLE_RATE_PER_SECOND = 0.01
    console, _ = await connect_console(anna)
    conversation = str(uuid.uuid4())
    await console.send_json_to({"type": "typing", "conversation": conversation})
    await receive_until(console, "error")
    frame = {"type": "send", "conversation": conversation, "client_id": "r9", "text": "x"}
    await console.send_json_to(frame)
    error = await receive_until(console, "error")
    assert error["code"] == "rate_limited"
    assert (error["conversation"], error["client_id"]) == (conversation, "r9")
    await console.disconnect()


async def test_reading_along_never_misses_a_message_sent_while_opening(anna) -> None:
    """``open`` joins the live stream before reading the history, so a message is in one or
    the other (or both), never in neither."""
    visitor, welcome = await start_visitor()
    console, _ = await connect_console(anna)
    await console.send_json_to(
        {"type": "open", "conversation": welcome["conversation"], "last_seq": 0}
    )
    await visitor.send_json_to({"type": "send", "client_id": "m", "text": "while opening"})
    seen = set()
    for _ in range(6):
        frame = await receive(console)
        if frame["type"] == "history":
            seen.update(m["seq"] for m in frame["messages"])
        elif frame["type"] == "message":
            seen.add(frame["message"]["seq"])
        if 1 in seen:
            break
    assert 1 in seen
    await visitor.disconnect()
    await console.disconnect()


async def test_a_colleague_reading_along_cannot_send_typing(anna, ben) -> None:
    """Typing is only for the counsellor who holds the conversation."""
    visitor, welcome = await start_visitor()
    console, _ = await connect_console(ben)
    await console.send_json_to({"type": "typing", "conversation": welcome["conversation"]})
    assert (await receive_until(console, "error"))["code"] == "not_found"
    assert (
        await visitor.receive_nothing(timeout=0.3) or (await receive(visitor))["type"] != "typing"
    )
    await visitor.disconnect()
    await console.disconnect()


async def test_frames_never_carry_internal_metadata(anna) -> None:
    """Group events travel with consumer-only metadata that is never sent to a client."""
    visitor, welcome = await start_visitor()
    console, _ = await connect_console(anna)
    await console.send_json_to({"type": "accept", "conversation": welcome["conversation"]})
    state = await receive_until(visitor, "state")
    assert set(state) == {"type", "conversation", "status"}
    assert "meta" not in json.dumps(state)
    await visitor.disconnect()
    await console.disconnect()


async def test_console_socket_closes_when_signed_out_everywhere(anna, monkeypatch) -> None:
    """An open console is closed (4403) at its next check after "sign out everywhere"."""
    from haven.accounts.services import staff_sign_out_everywhere
    from haven.chat import consumers

    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0.2)
    console, _ = await connect_console(anna)
    assert await console.receive_nothing(timeout=0.5)  # checks pass while nothing changed
    await database_sync_to_async(staff_sign_out_everywhere)(user=anna)
    closed = await console.receive_output(timeout=TIMEOUT)
    assert closed == {"type": "websocket.close", "code": 4403}


async def test_console_socket_closes_when_the_role_is_taken_away(anna, monkeypatch) -> None:
    from haven.chat import consumers

    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0.2)
    console, _ = await connect_console(anna)
    await database_sync_to_async(anna.groups.clear)()
    closed = await console.receive_output(timeout=TIMEOUT)
    assert closed == {"type": "websocket.close", "code": 4403}


async def test_someone_is_coming_tells_the_console_and_ends_nothing(anna) -> None:
    """The visitor hides the chat ("someone is coming") and comes back: the console is told
    both, the visitor gets no echo, and the conversation goes on (a message still arrives)."""
    visitor, console, conversation = await accepted(anna)

    await visitor.send_json_to({"type": "cover", "covered": True})
    cover = await receive_until(console, "cover")
    assert cover == {"type": "cover", "conversation": conversation, "covered": True}
    await console.send_json_to(
        {"type": "send", "conversation": conversation, "client_id": "r1", "text": "Ik wacht"}
    )
    assert (await receive_until(visitor, "message"))["message"]["text"] == "Ik wacht"
    await visitor.send_json_to({"type": "cover", "covered": False})
    assert (await receive_until(console, "cover"))["covered"] is False
    # Not a boolean: refused, and nothing reaches the console.
    await visitor.send_json_to({"type": "cover", "covered": "yes"})
    assert (await receive_until(visitor, "error"))["code"] == "bad_field"
    await visitor.send_json_to({"type": "send", "client_id": "v1", "text": "Ik ben er weer"})
    assert (await receive_until(console, "message"))["message"]["client_id"] == "v1"
    await visitor.disconnect()
    await console.disconnect()


async def test_the_quick_exit_is_told_to_the_console_as_such(anna) -> None:
    """A quick exit ends the conversation like an end, but the state and the stream's last
    entry say the visitor left quickly; an ordinary end says nothing of the kind."""
    visitor, console, conversation = await accepted(anna)
    await visitor.send_json_to({"type": "quick_exit"})
    frames = await receive_each(console, "state", "message")
    state, last = frames["state"], frames["message"]
    assert state == {
        "type": "state",
        "conversation": conversation,
        "status": "ended",
        "ended_by": "visitor",
        "quick": True,
    }
    assert (last["message"]["sender"], last["message"]["kind"]) == ("system", "quick_exit")
    await visitor.disconnect()
    # An ordinary end, for comparison: no "quick".
    visitor, _welcome = await start_visitor()
    await visitor.send_json_to({"type": "end"})
    state = await receive_until(visitor, "state")
    assert "quick" not in state and state["ended_by"] == "visitor"
    await visitor.disconnect()
    await console.disconnect()


async def test_notes_reach_the_counsellors_consoles_and_never_the_visitor(anna) -> None:
    """Saved from one console: every console of the counsellor hears them, a console that
    opens the conversation gets them; the visitor's socket gets nothing, and they are not in
    the visitor's history after a resume."""
    visitor, welcome = await start_visitor()
    conversation = welcome["conversation"]
    console = await accept_as(anna, visitor, welcome)
    other, _hello = await connect_console(anna)
    secret = "Synthetic note: says the uncle drives her."
    await console.send_json_to({"type": "notes", "conversation": conversation, "text": secret})
    for socket in (console, other):
        told = await receive_until(socket, "notes")
        assert told == {"type": "notes", "conversation": conversation, "text": secret}
    await other.send_json_to({"type": "open", "conversation": conversation, "last_seq": 0})
    assert (await receive_until(other, "notes"))["text"] == secret
    # The visitor: a message after the notes arrives, the notes never did.
    await console.send_json_to(
        {"type": "send", "conversation": conversation, "client_id": "n1", "text": "Hoi"}
    )
    seen = []
    for _ in range(5):
        frame = await receive(visitor)
        seen.append(frame)
        if frame["type"] == "message" and frame["message"]["client_id"] == "n1":
            break
    assert all(secret not in json.dumps(frame) for frame in seen)
    await visitor.disconnect()
    # A resume (another socket, the whole history) carries no notes either.
    again = await connect("/ws/visitor/")
    await again.send_json_to({"type": "resume", "token": welcome["token"], "last_seq": 0})
    welcome, history = await receive(again), await receive(again)
    assert secret not in json.dumps([welcome, history])
    await again.disconnect()
    await other.disconnect()
    await console.disconnect()


async def test_an_emergency_flag_alerts_supervisors_at_once_and_never_the_visitor(
    anna, make_staff
) -> None:  # type: ignore[no-untyped-def]
    """The counsellor flags: every supervisor's console and the counsellor's own hear it
    (with the conversation's number and who has it); the visitor's socket does not; the
    supervisor's live list carries it after a reconnect. A colleague cannot flag it."""
    supervisor = await database_sync_to_async(make_staff)("sem", "supervisor")
    colleague = await database_sync_to_async(make_staff)("bram", "counsellor")
    watching, _hello = await connect_console(supervisor)
    visitor, console, conversation = await accepted(anna)
    await console.send_json_to({"type": "urgent", "conversation": conversation, "urgent": True})
    alert = await receive_until(watching, "urgent")
    assert (alert["conversation"], alert["urgent"], alert["counsellor"]) == (
        conversation,
        True,
        "anna",
    )
    assert alert["number"] >= 1
    assert (await receive_until(console, "urgent"))["urgent"] is True
    again, hello = await connect_console(supervisor)
    (entry,) = [e for e in hello["live"] if e["conversation"] == conversation]
    assert entry["urgent"] is True
    other, _hello = await connect_console(colleague)
    await other.send_json_to({"type": "urgent", "conversation": conversation, "urgent": False})
    assert (await receive_until(other, "error"))["code"] == "not_found"
    # The visitor: a message after the flag arrives, the flag never did.
    await console.send_json_to(
        {"type": "send", "conversation": conversation, "client_id": "u1", "text": "Ik blijf"}
    )
    for _ in range(5):
        frame = await receive(visitor)
        assert frame["type"] != "urgent"
        if frame["type"] == "message" and frame["message"]["client_id"] == "u1":
            break
    for socket in (visitor, console, watching, again, other):
        await socket.disconnect()
