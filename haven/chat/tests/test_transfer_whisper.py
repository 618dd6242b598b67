"""Whispers and transfers: words for the team that never reach the visitor.

A whisper (a supervisor to the counsellor, or back) and a transfer's note are staff notes:
never in the conversation's stream. Each door the visitor has is checked: their socket, their
history after a resume, the coding page's transcript and the coded-record export; and the
database holds them encrypted, and the retention job deletes them with the transcript.
"""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.management import call_command
from django.db import connection
from django.test import Client

from haven.chat import services
from haven.chat.models import Conversation, Message, StaffNote
from haven.chat.tests.test_consumers import (
    accepted,
    connect,
    connect_console,
    receive,
    receive_until,
    start_visitor,
)
from haven.conftest import sign_in_fully


@pytest.fixture
def anna(make_counsellor):  # type: ignore[no-untyped-def]
    return make_counsellor("anna")


@pytest.fixture
def ben(make_counsellor):  # type: ignore[no-untyped-def]
    return make_counsellor("ben")


SECRET = "Synthetic whisper: check the quick exit with her."
NOTE = "Synthetic transfer note: she prefers short sentences."


def consumer_test(test: Any) -> Any:
    return pytest.mark.django_db(transaction=True)(pytest.mark.asyncio(test))


async def frames_until_message(
    visitor: WebsocketCommunicator, client_id: str
) -> list[dict[str, Any]]:
    """Everything the visitor's socket gets until the counsellor's message ``client_id``."""
    seen = []
    for _ in range(20):
        frame = await receive(visitor)
        seen.append(frame)
        if frame["type"] == "message" and frame["message"]["client_id"] == client_id:
            return seen
    raise AssertionError(f"no message {client_id}: {seen}")


async def console_seen(user: Any) -> None:
    """Wait until ``user``'s console has said it is open (its first heartbeat)."""
    from haven.chat.models import ConsolePresence

    for _ in range(100):
        if await database_sync_to_async(ConsolePresence.objects.filter(user=user).exists)():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the console never said it was open")


async def resumed_frames(token: str) -> str:
    """A fresh visitor socket that resumes from 0: its welcome and history, as text."""
    again = await connect("/ws/visitor/")
    await again.send_json_to({"type": "resume", "token": token, "last_seq": 0})
    frames = [await receive(again), await receive(again)]
    await again.disconnect()
    return json.dumps(frames, ensure_ascii=False)


@consumer_test
async def test_a_whisper_reaches_the_counsellor_and_supervisors_never_the_visitor(
    anna, make_staff
) -> None:  # type: ignore[no-untyped-def]
    """A supervisor reading along whispers: the counsellor's console and every supervisor's
    get it (a ``staff_note``), a console that opens the conversation gets it in
    ``staff_notes``; the counsellor whispers back. The visitor's socket never gets either,
    nor its history after a resume."""
    supervisor = await database_sync_to_async(make_staff)("sem", "supervisor")
    watching, _ = await connect_console(supervisor)
    visitor, welcome = await start_visitor()
    from haven.chat.tests.test_consumers import accept_as

    console = await accept_as(anna, visitor, welcome)
    conversation = welcome["conversation"]
    await watching.send_json_to({"type": "open", "conversation": conversation, "last_seq": 0})
    assert (await receive_until(watching, "staff_notes"))["notes"] == []
    await watching.send_json_to({"type": "whisper", "conversation": conversation, "text": SECRET})
    for socket in (console, watching):
        told = await receive_until(socket, "staff_note")
        assert told["conversation"] == conversation
        assert (told["note"]["kind"], told["note"]["author"], told["note"]["text"]) == (
            "whisper",
            "sem",
            SECRET,
        )
    await console.send_json_to(
        {"type": "whisper", "conversation": conversation, "text": "Synthetic reply: will do."}
    )
    assert (await receive_until(watching, "staff_note"))["note"]["author"] == "anna"
    other, _ = await connect_console(anna)
    await other.send_json_to({"type": "open", "conversation": conversation, "last_seq": 0})
    notes = (await receive_until(other, "staff_notes"))["notes"]
    assert [n["text"] for n in notes] == [SECRET, "Synthetic reply: will do."]
    # The visitor's socket: a message after the whispers arrives, the whispers never did.
    await console.send_json_to(
        {"type": "send", "conversation": conversation, "client_id": "w1", "text": "Hoi"}
    )
    seen = await frames_until_message(visitor, "w1")
    assert all(f["type"] not in {"staff_note", "staff_notes"} for f in seen)
    assert SECRET not in json.dumps(seen, ensure_ascii=False)
    assert "Synthetic reply" not in json.dumps(seen, ensure_ascii=False)
    await visitor.disconnect()
    resumed = await resumed_frames(welcome["token"])
    assert SECRET not in resumed and "Synthetic reply" not in resumed
    for socket in (console, other, watching):
        await socket.disconnect()


@consumer_test
async def test_only_the_counsellor_and_supervisors_may_whisper(anna, ben) -> None:  # type: ignore[no-untyped-def]
    """A colleague who does not hold the conversation is told it is not found; the visitor's
    endpoint has no such frame; an empty whisper is refused as empty."""
    visitor, console, conversation = await accepted(anna)
    colleague, _ = await connect_console(ben)
    await colleague.send_json_to({"type": "whisper", "conversation": conversation, "text": "x"})
    assert (await receive_until(colleague, "error"))["code"] == "not_found"
    await console.send_json_to({"type": "whisper", "conversation": conversation, "text": "\u200b "})
    assert (await receive_until(console, "error"))["code"] == "empty"
    await visitor.send_json_to({"type": "whisper", "conversation": conversation, "text": "x"})
    assert (await receive_until(visitor, "error"))["code"] == "unknown_type"
    count = await database_sync_to_async(StaffNote.objects.count)()
    assert count == 0
    for socket in (visitor, console, colleague):
        await socket.disconnect()


@consumer_test
async def test_a_transfer_to_a_colleague_moves_the_conversation_with_its_history_and_note(
    anna, ben
) -> None:  # type: ignore[no-untyped-def]
    """Anna hands the conversation to Ben with a note: her console lets go of it ("taken"),
    Ben's gets it (``assigned``) and the note; opening it he reads the whole history and
    the note. The visitor reads that another counsellor goes on, never the note, and keeps
    talking, now with Ben; Anna can no longer write in it."""
    visitor, welcome = await start_visitor()
    conversation = welcome["conversation"]
    await visitor.send_json_to({"type": "send", "client_id": "v1", "text": "Hallo"})
    from haven.chat.tests.test_consumers import accept_as

    console = await accept_as(anna, visitor, welcome)
    receiving, _ = await connect_console(ben)
    await console_seen(ben)
    ben_id = await database_sync_to_async(lambda: ben.pk)()
    await console.send_json_to(
        {"type": "transfer", "conversation": conversation, "to": ben_id, "note": NOTE}
    )
    taken = await receive_until(console, "state")
    assert taken == {"type": "state", "conversation": conversation, "status": "taken"}
    assigned = await receive_until(receiving, "assigned")
    assert assigned["conversation"]["conversation"] == conversation
    assert assigned["conversation"]["counsellor"] == "ben"
    note = (await receive_until(receiving, "staff_note"))["note"]
    assert (note["kind"], note["author"], note["to"], note["text"]) == (
        "transfer",
        "anna",
        "ben",
        NOTE,
    )
    await receiving.send_json_to({"type": "open", "conversation": conversation, "last_seq": 0})
    history = await receive_until(receiving, "history")
    kinds = [(m["sender"], m["kind"]) for m in history["messages"]]
    assert kinds == [
        ("visitor", "text"),
        ("system", "joined"),
        ("system", "transferred"),
    ]
    assert [n["text"] for n in (await receive_until(receiving, "staff_notes"))["notes"]] == [NOTE]
    # Ben writes; the visitor gets it, and never the note.
    await receiving.send_json_to(
        {"type": "send", "conversation": conversation, "client_id": "b1", "text": "Ik ben Ben"}
    )
    seen = await frames_until_message(visitor, "b1")
    assert NOTE not in json.dumps(seen, ensure_ascii=False)
    assert any(f["type"] == "message" and f["message"]["kind"] == "transferred" for f in seen)
    assert {"type": "state", "conversation": conversation, "status": "active"} in seen
    # Anna's console can no longer write in it.
    await console.send_json_to(
        {"type": "send", "conversation": conversation, "client_id": "a9", "text": "nog iets"}
    )
    assert (await receive_until(console, "error"))["code"] == "not_found"
    assert NOTE not in await resumed_frames(welcome["token"])
    for socket in (visitor, console, receiving):
        await socket.disconnect()


@consumer_test
async def test_back_to_the_queue_keeps_the_place_and_the_note_waits_for_the_next(anna, ben) -> None:  # type: ignore[no-untyped-def]
    """Anna puts the conversation back in the queue (``to`` 0): the visitor is waiting again
    and told their place; every console sees it in the queue. Ben, reading it there, gets
    the transfer note but not Anna's earlier whisper; once he accepts it, both. It was
    answered once: the first accept's time stays."""
    visitor, console, conversation = await accepted(anna)
    await console.send_json_to(
        {"type": "whisper", "conversation": conversation, "text": "Synthetic: for the team"}
    )
    await receive_until(console, "staff_note")
    first_accept = await database_sync_to_async(
        lambda: Conversation.objects.get(pk=conversation).accepted_at
    )()
    other, _ = await connect_console(ben)
    await console.send_json_to(
        {"type": "transfer", "conversation": conversation, "to": 0, "note": NOTE}
    )
    waiting = await receive_until(visitor, "state")
    assert (waiting["status"], waiting["position"]) == ("waiting", 1)
    entry = await receive_until(other, "queue_entry")
    assert entry["entry"]["conversation"] == conversation
    assert (await receive_until(console, "state"))["status"] == "taken"
    await other.send_json_to({"type": "open", "conversation": conversation, "last_seq": 0})
    notes = (await receive_until(other, "staff_notes"))["notes"]
    assert [(n["kind"], n["to"], n["text"]) for n in notes] == [("transfer", "", NOTE)]
    await other.send_json_to({"type": "accept", "conversation": conversation})
    await receive_until(other, "assigned")
    assert (await receive_until(visitor, "state"))["status"] == "active"
    await other.send_json_to({"type": "open", "conversation": conversation, "last_seq": 0})
    notes = (await receive_until(other, "staff_notes"))["notes"]
    assert [n["kind"] for n in notes] == ["whisper", "transfer"]
    stored = await database_sync_to_async(Conversation.objects.get)(pk=conversation)
    assert stored.accepted_at == first_accept
    assert stored.counsellor_id == await database_sync_to_async(lambda: ben.pk)()
    for socket in (visitor, console, other):
        await socket.disconnect()


@consumer_test
async def test_a_transfer_is_refused_to_an_away_colleague_or_one_who_cannot_counsel(
    anna, ben, make_staff
) -> None:  # type: ignore[no-untyped-def]
    """Away (or at their limit): ``unavailable``, naming them. An analyst, an unknown id or
    oneself: ``not_found`` / ``unavailable``. A colleague who does not hold it cannot
    transfer it. Nothing moves."""
    analyst = await database_sync_to_async(make_staff)("ada", "analyst")
    visitor, console, conversation = await accepted(anna)
    away, _ = await connect_console(ben)
    await console_seen(ben)
    await away.send_json_to({"type": "availability", "available": False, "max_chats": 0})
    await receive_until(away, "availability")
    ids = await database_sync_to_async(lambda: (anna.pk, ben.pk, analyst.pk))()
    for to, code in ((ids[1], "unavailable"), (ids[2], "not_found"), (99999, "not_found")):
        await console.send_json_to(
            {"type": "transfer", "conversation": conversation, "to": to, "note": ""}
        )
        error = await receive_until(console, "error")
        assert error["code"] == code, (to, error)
    await console.send_json_to(
        {"type": "transfer", "conversation": conversation, "to": ids[0], "note": ""}
    )
    assert (await receive_until(console, "error"))["code"] == "unavailable"
    await away.send_json_to({"type": "transfer", "conversation": conversation, "to": 0, "note": ""})
    assert (await receive_until(away, "error"))["code"] == "not_found"
    stored = await database_sync_to_async(Conversation.objects.get)(pk=conversation)
    assert (stored.status, stored.counsellor_id) == ("active", ids[0])
    for socket in (visitor, console, away):
        await socket.disconnect()


@pytest.mark.django_db
def test_staff_notes_are_encrypted_kept_out_of_transcripts_and_exports_and_purged(
    clock, counsellor, make_staff
) -> None:  # type: ignore[no-untyped-def]
    """At rest the words are encrypted; the coding page's transcript and the coded-record
    export never carry them; the retention job deletes them with the messages."""
    supervisor = make_staff("sem", "supervisor")
    conversation = services.conversation_start(language="nl")[0]
    services.conversation_accept(conversation_id=conversation.id, counsellor=counsellor)
    services.conversation_whisper(actor=supervisor, conversation_id=conversation.id, text=SECRET)
    with pytest.raises(services.ConversationUnavailable):  # no console open: not to them
        services.conversation_transfer(
            actor=counsellor, conversation_id=conversation.id, to_id=supervisor.pk, note=NOTE
        )
    services.console_present(presence_id=uuid.uuid4(), user=supervisor)
    services.conversation_transfer(
        actor=counsellor, conversation_id=conversation.id, to_id=supervisor.pk, note=NOTE
    )
    assert StaffNote.objects.filter(conversation=conversation).count() == 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM chat_staffnote")
        raw = " ".join(row[0] for row in cursor.fetchall())
    assert "Synthetic" not in raw
    assert not any("Synthetic" in m.text for m in Message.objects.all())
    services.conversation_end(conversation_id=conversation.id, party="visitor")
    client = Client()
    sign_in_fully(client, supervisor)
    page = client.get(f"/en/console/cases/conversation/{conversation.id}/").content.decode()
    assert page.count("Synthetic") == 0
    out = io.StringIO()
    call_command("exportcases", "--format", "json", "--as", "sem", stdout=out)
    assert "Synthetic" not in out.getvalue()
    clock.advance(days=31)
    services.transcripts_purge()
    assert not StaffNote.objects.filter(conversation=conversation).exists()
