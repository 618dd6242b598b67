"""The queue under a surge: consoles get one change at a time, visitors their place only
when it changed, and a waiting visitor's message costs the same however long the queue."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from channels.db import database_sync_to_async

from haven.chat import services
from haven.chat.models import Conversation
from haven.chat.tests.test_consumers import (
    connect_console,
    receive,
    receive_until,
    start_visitor,
)


def waiting(count: int, clock) -> list[Conversation]:  # type: ignore[no-untyped-def]
    conversations = []
    for _ in range(count):
        conversations.append(services.conversation_start(language="nl")[0])
        clock.advance(seconds=1)
    return conversations


def visitor_message(conversation: Conversation, index: int = 0) -> services.MessageRequest:
    return services.MessageRequest(
        conversation_id=conversation.id,
        sender="visitor",
        text=f"bericht {index}",
        client_id=uuid.uuid4().hex,
    )


def statements(call) -> int:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


@pytest.mark.django_db
def test_a_waiting_visitors_message_costs_the_same_whatever_the_queue(  # type: ignore[no-untyped-def]
    clock, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    """As many statements with 50 waiting as with 5 (none reads the queue), and two events:
    the message, and that one entry for the consoles. No visitor is sent a place."""
    from haven.core import broadcast

    published: list[str] = []
    monkeypatch.setattr(
        broadcast,
        "publish",
        lambda group, message, **kw: published.append(message["event"]["type"]),
    )
    counts = []
    for length in (5, 50):
        last = waiting(length, clock)[-1]
        published.clear()
        with django_capture_on_commit_callbacks(execute=True):
            counts.append(statements(lambda c=last: services.messages_send([visitor_message(c)])))
        assert published == ["message", "queue_entry"]
    assert counts[0] == counts[1] <= 5


@pytest.mark.django_db
def test_a_batch_of_messages_costs_as_much_as_one(clock) -> None:  # type: ignore[no-untyped-def]
    """Twenty messages to twenty conversations in one transaction: the same statements as
    one message (fewer on PostgreSQL, where a batch's statements share round trips)."""
    conversations = waiting(21, clock)
    one = statements(lambda: services.messages_send([visitor_message(conversations[0])]))
    results: list = []
    twenty = statements(
        lambda: results.extend(
            services.messages_send([visitor_message(c) for c in conversations[1:]])
        )
    )
    assert one == twenty
    assert [r.seq for r in results] == [1] * 20


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_consoles_get_each_change_and_visitors_only_a_changed_place(anna) -> None:  # type: ignore[no-untyped-def]
    """A waiting visitor writes: every console gets that entry (with its count), no
    visitor gets a place. The first is accepted: consoles get it leaving, the visitors
    behind it their new place, nobody ahead anything."""
    console, _ = await connect_console(anna)
    visitors = [await start_visitor() for _ in range(3)]
    for _ in visitors:
        await receive_until(console, "queue_entry")
    (second, second_welcome), (third, third_welcome) = visitors[1], visitors[2]
    assert (second_welcome["position"], third_welcome["position"]) == (2, 3)

    await second.send_json_to({"type": "send", "client_id": "w1", "text": "ik wacht"})
    entry = await receive_until(console, "queue_entry")
    assert (entry["entry"]["conversation"], entry["entry"]["message_count"]) == (
        second_welcome["conversation"],
        1,
    )
    assert {f["type"] for f in [await receive(second), await receive(second)]} == {"ack", "message"}
    assert await third.receive_nothing(timeout=0.3)

    first, first_welcome = visitors[0]
    await console.send_json_to({"type": "accept", "conversation": first_welcome["conversation"]})
    left = await receive_until(console, "queue_leave")
    assert left["conversation"] == first_welcome["conversation"]
    assert (await receive_until(second, "queue_position"))["position"] == 1
    assert (await receive_until(third, "queue_position"))["position"] == 2
    assert (await receive_until(first, "state"))["status"] == "active"
    assert await first.receive_nothing(timeout=0.3)
    for communicator in (console, first, second, third):
        await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_console_sees_the_queue_as_it_is_when_it_connects(anna) -> None:  # type: ignore[no-untyped-def]
    """``hello`` has every waiting conversation, oldest first, each with the sequence number
    that orders the changes after it."""
    visitors = [await start_visitor() for _ in range(2)]
    await visitors[0][0].send_json_to({"type": "send", "client_id": "x", "text": "hoi"})
    await receive_until(visitors[0][0], "ack")
    console, hello = await connect_console(anna)
    assert [(e["conversation"], e["seq"], e["message_count"]) for e in hello["queue"]] == [
        (visitors[0][1]["conversation"], 1, 1),
        (visitors[1][1]["conversation"], 0, 0),
    ]
    ended = await database_sync_to_async(Conversation.objects.filter(status="ended").count)()
    assert ended == 0
    for communicator in (console, *(v for v, _ in visitors)):
        await communicator.disconnect()


@pytest.fixture
def anna(make_counsellor):  # type: ignore[no-untyped-def]
    return make_counsellor("anna")


def _accepted_lately(count: int, minutes_ago: float) -> None:
    """``count`` conversations accepted ``minutes_ago`` (started a few minutes before)."""
    from haven.core import clock

    for _ in range(count):
        conversation, _token = services.conversation_start(language="nl")
        moment = clock.now() - dt.timedelta(minutes=minutes_ago)
        Conversation.objects.filter(pk=conversation.pk).update(
            status=Conversation.Status.ENDED,
            created_at=moment - dt.timedelta(minutes=3),
            accepted_at=moment,
            ended_at=moment,
        )


@pytest.mark.django_db
def test_the_pace_is_one_count_of_the_last_hours_accepts(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    """Accepts within the hour count, older ones not; one query, whatever the table holds."""
    from haven.chat import selectors

    _accepted_lately(4, minutes_ago=30)
    _accepted_lately(5, minutes_ago=90)
    with django_assert_num_queries(1):
        assert selectors.accepted_lately() == 4


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_waiting_visitors_are_told_the_estimated_wait(anna) -> None:  # type: ignore[no-untyped-def]
    """With 12 accepts in the last hour (five minutes a place) the first in line hears
    "about 5 minutes" and the second 10; after an accept the second moves up to 5. Without
    enough accepts to go on, no estimate (null)."""
    visitor, welcome = await start_visitor()
    assert welcome["estimate_minutes"] is None  # nothing accepted lately
    await visitor.disconnect()
    await database_sync_to_async(_accepted_lately)(12, minutes_ago=20)

    console, _ = await connect_console(anna)
    first, first_welcome = await start_visitor()
    second, second_welcome = await start_visitor()
    assert (first_welcome["position"], second_welcome["position"]) == (2, 3)  # one left before
    assert (first_welcome["estimate_minutes"], second_welcome["estimate_minutes"]) == (10, 15)
    await console.send_json_to({"type": "accept", "conversation": welcome["conversation"]})
    moved = await receive_until(first, "queue_position")
    assert (moved["position"], moved["estimate_minutes"]) == (1, 5)
    moved = await receive_until(second, "queue_position")
    assert (moved["position"], moved["estimate_minutes"]) == (2, 10)
    for communicator in (console, first, second):
        await communicator.disconnect()
