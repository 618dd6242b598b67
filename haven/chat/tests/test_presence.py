"""A waiting visitor whose connection is gone leaves the queue by itself; one who comes back
in time keeps their place (services.conversation_end_if_absent, positions.Keeper)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from haven.chat import selectors, services
from haven.chat.models import Conversation, Message
from haven.chat.tests.test_consumers import TIMEOUT, start_visitor

pytestmark = pytest.mark.django_db


def start() -> Conversation:
    conversation, _ = services.conversation_start(language="nl")
    return conversation


def test_a_visitor_gone_longer_than_the_absence_leaves_the_queue(clock, settings) -> None:  # type: ignore[no-untyped-def]
    """Not a second before HAVEN_QUEUE_ABSENCE_SECONDS; then it ends as left by the system,
    with its last entry in the stream, and what the visitor wrote stays."""
    settings.HAVEN_QUEUE_ABSENCE_SECONDS = 120
    conversation = start()
    services.message_send(
        conversation_id=conversation.id, sender="visitor", text="hallo", client_id="m1"
    )
    clock.advance(seconds=119)
    assert selectors.absent_waiting() == []
    assert not services.conversation_end_if_absent(conversation_id=conversation.id)
    clock.advance(seconds=2)
    assert selectors.absent_waiting() == [conversation.id]
    assert services.conversation_end_if_absent(conversation_id=conversation.id)
    conversation.refresh_from_db()
    assert (conversation.status, conversation.ended_by) == ("ended", "system")
    kinds = list(conversation.messages.values_list("sender", "kind"))
    assert kinds == [("visitor", "text"), ("system", "ended")]
    assert not services.conversation_end_if_absent(conversation_id=conversation.id)


def test_a_visitor_who_is_connected_keeps_their_place(clock, settings) -> None:  # type: ignore[no-untyped-def]
    """A worker saying the visitor is connected resets the absence; the place in the queue
    is the place it had."""
    settings.HAVEN_QUEUE_ABSENCE_SECONDS = 120
    first = start()
    clock.advance(seconds=1)
    second = start()
    clock.advance(seconds=99)
    assert services.conversations_visitor_present(conversation_ids=[first.id, second.id]) == 2
    clock.advance(seconds=100)  # 200 s after the start, 100 s after last seen
    assert selectors.absent_waiting() == []
    assert selectors.queue_position(second) == 2
    clock.advance(seconds=21)
    assert set(selectors.absent_waiting()) == {first.id, second.id}


def test_only_waiting_conversations_leave_for_absence(clock, settings, counsellor) -> None:  # type: ignore[no-untyped-def]
    """A chat in progress is never ended because its visitor's connection dropped, and
    presence says nothing about it."""
    settings.HAVEN_QUEUE_ABSENCE_SECONDS = 60
    conversation = start()
    services.conversation_accept(conversation_id=conversation.id, counsellor=counsellor)
    assert services.conversations_visitor_present(conversation_ids=[conversation.id]) == 0
    clock.advance(seconds=3600)
    assert selectors.absent_waiting() == []
    assert not services.conversation_end_if_absent(conversation_id=conversation.id)
    assert Conversation.objects.get(pk=conversation.id).status == "active"


def test_a_conversation_from_before_presence_counts_from_its_start(clock, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HAVEN_QUEUE_ABSENCE_SECONDS = 60
    conversation = start()
    Conversation.objects.filter(pk=conversation.id).update(visitor_seen_at=None)
    clock.advance(seconds=61)
    assert selectors.absent_waiting() == [conversation.id]


def test_leaving_for_absence_tells_the_consoles_and_the_visitor(  # type: ignore[no-untyped-def]
    clock, settings, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    """The queue entry goes from every console; a visitor coming back later sees that the
    chat ended (``ended_by`` system)."""
    from haven.core import broadcast

    published: list[dict] = []
    monkeypatch.setattr(
        broadcast, "publish", lambda group, message, **kw: published.append(message["event"])
    )
    settings.HAVEN_QUEUE_ABSENCE_SECONDS = 60
    conversation = start()
    clock.advance(seconds=61)
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.conversation_end_if_absent(conversation_id=conversation.id)
    types = [(e["type"], e.get("status") or e.get("message", {}).get("kind")) for e in published]
    assert types == [("message", "ended"), ("state", "ended"), ("queue_leave", None)]
    assert published[1]["ended_by"] == "system"
    assert published[2]["seq"] == Message.objects.filter(conversation=conversation).count()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_closed_tab_leaves_the_queue_and_a_connected_one_stays(settings) -> None:  # type: ignore[no-untyped-def]
    """Through the real sockets: the worker's keeper says which visitors it holds; the
    sweep every worker runs (haven.asgi) ends the waiting chat whose tab was closed, and
    leaves the one whose visitor is still there."""
    from channels.db import database_sync_to_async

    from haven.asgi import _end_absent
    from haven.core import clock as clock_module

    settings.HAVEN_QUEUE_ABSENCE_SECONDS = 60
    closed, gone = await start_visitor()
    present, here = await start_visitor()
    await closed.disconnect()
    # The keeper reports a freshly bound visitor within a second.
    await asyncio.sleep(1.5)
    later = clock_module.now() + dt.timedelta(seconds=61)
    await database_sync_to_async(
        lambda: Conversation.objects.filter(pk=gone["conversation"]).update(
            visitor_seen_at=later - dt.timedelta(seconds=120)
        )
    )()
    with clock_module.frozen(later):
        await database_sync_to_async(
            lambda: services.conversations_visitor_present(conversation_ids=[here["conversation"]])
        )()
        await _end_absent()
    statuses = await database_sync_to_async(
        lambda: dict(Conversation.objects.values_list("id", "status"))
    )()
    assert {str(k): v for k, v in statuses.items()} == {
        gone["conversation"]: "ended",
        here["conversation"]: "waiting",
    }
    await present.receive_nothing(timeout=0.1)
    await present.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_keeper_says_a_bound_visitor_is_connected(settings) -> None:  # type: ignore[no-untyped-def]
    """Within a second of binding (a start or a resume), and again every heartbeat."""
    from channels.db import database_sync_to_async

    settings.HAVEN_PRESENCE_HEARTBEAT_SECONDS = 1
    visitor, welcome = await start_visitor()
    old = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    await database_sync_to_async(
        lambda: Conversation.objects.filter(pk=welcome["conversation"]).update(visitor_seen_at=old)
    )()
    for _ in range(int(TIMEOUT * 10)):
        await asyncio.sleep(0.1)
        seen = await database_sync_to_async(
            lambda: Conversation.objects.get(pk=welcome["conversation"]).visitor_seen_at
        )()
        if seen > old:
            break
    assert seen > old
    await visitor.disconnect()


@pytest.mark.asyncio
async def test_the_keeper_tries_again_when_the_queue_could_not_be_read(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A failed read of the queue's order (the database away) is tried again by itself: a
    visitor whose place changed hears it although the queue then stays still."""
    import uuid

    from channels.layers import get_channel_layer
    from django.db import DatabaseError

    from haven.chat import positions

    monkeypatch.setattr(positions, "RETRY_SECONDS", 0.05)
    ahead, mine = str(uuid.uuid4()), str(uuid.uuid4())
    reads = 0

    async def read(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal reads
        reads += 1
        if reads == 1:
            raise DatabaseError("away for a moment")
        return [ahead, mine], 0, True  # the order, no accept in the last hour, watched

    monkeypatch.setattr(positions.db, "read", read)
    layer = get_channel_layer()
    channel = await layer.new_channel()
    keeper = positions.Keeper()
    keeper.sockets[mine].add(channel)
    keeper.places[mine] = (1, None, True)
    task = asyncio.create_task(keeper._keep_places())
    try:
        keeper.dirty.set()
        message = await asyncio.wait_for(layer.receive(channel), TIMEOUT)
    finally:
        task.cancel()
    assert message["event"] == {
        "type": "queue_position",
        "conversation": mine,
        "position": 2,
        "estimate_minutes": None,
        "watched": True,
    }
    assert reads == 2
