"""Opening hours as administrators set them, and a queue nobody watches: the services, the
visitor's page and the socket. (The arithmetic of hours is in test_hours.py.)"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.utils import translation

from haven.chat import selectors, services
from haven.chat.models import ConsolePresence, OpeningException, OpeningHours
from haven.chat.tests.test_consumers import (
    connect_console,
    receive_until,
    start_visitor,
)
from haven.conftest import sign_in_fully

# The test clock starts on Monday 2 March 2026, 09:00 UTC (10:00 in Amsterdam).


def evenings() -> None:
    """Every day 19:00-23:00, Amsterdam time."""
    for weekday in range(7):
        OpeningHours.objects.create(weekday=weekday, opens_at=dt.time(19), closes_at=dt.time(23))


@pytest.mark.django_db
def test_outside_the_hours_no_chat_starts_and_the_refusal_says_when_it_opens(clock) -> None:  # type: ignore[no-untyped-def]
    """In Dutch by default: the day and the time, in the helpline's time zone."""
    evenings()
    with translation.override("nl"), pytest.raises(services.Closed) as refused:
        services.conversation_start(language="nl")
    assert refused.value.code == "closed"
    assert "maandag 2 maart om 19:00" in refused.value.message
    assert "bericht" in refused.value.message


@pytest.mark.django_db
def test_within_the_hours_a_chat_starts(clock) -> None:  # type: ignore[no-untyped-def]
    evenings()
    clock.advance(hours=9)  # 19:00 in Amsterdam
    conversation, _token = services.conversation_start(language="nl")
    assert conversation.status == "waiting"


@pytest.mark.django_db
def test_a_holiday_closes_a_day_that_is_otherwise_open(clock) -> None:  # type: ignore[no-untyped-def]
    """An exception for today: closed tonight, open again tomorrow evening."""
    evenings()
    OpeningException.objects.create(date=dt.date(2026, 3, 2), closed=True, note="synthetic")
    clock.advance(hours=10)  # 20:00 in Amsterdam
    with translation.override("en"), pytest.raises(services.Closed) as refused:
        services.conversation_start(language="en")
    assert "Tuesday 3 March at 19:00" in refused.value.message


@pytest.mark.django_db
def test_with_no_hours_set_the_chat_is_always_open(clock) -> None:  # type: ignore[no-untyped-def]
    """A fresh install: nothing set, nothing closed (as before hours existed)."""
    clock.advance(hours=18)  # 04:00 in Amsterdam
    assert selectors.schedule().is_open(clock.moment)
    services.conversation_start(language="nl")


@pytest.mark.django_db
def test_an_exception_that_is_open_needs_its_times() -> None:
    """The admin form refuses an open exception without an opening and a closing time."""
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        OpeningException(date=dt.date(2026, 12, 26), closed=False).full_clean()
    OpeningException(
        date=dt.date(2026, 12, 26), closed=False, opens_at=dt.time(14), closes_at=dt.time(18)
    ).full_clean()


@pytest.mark.django_db
def test_the_visitor_page_says_when_the_chat_opens_and_offers_a_message(clock) -> None:  # type: ignore[no-untyped-def]
    """Closed: the notice with the day and time, no start button, a message instead."""
    evenings()
    html = Client().get("/").content.decode()
    assert 'id="closed-notice"' in html and "maandag 2 maart om 19:00" in html
    assert 'id="start-chat" hidden' in html
    assert 'class="primary" id="leave-letter"' in html
    clock.advance(hours=9)
    html = Client().get("/").content.decode()
    assert 'id="start-chat">' in html
    assert 'id="closed-notice" role="status" tabindex="-1" hidden' in html


@pytest.mark.django_db
def test_an_administrator_sets_the_hours_in_the_admin_site(make_staff) -> None:  # type: ignore[no-untyped-def]
    """Through the admin's own add form; the schedule reads it at once."""
    client = Client()
    sign_in_fully(client, make_staff("adam", "administrator"))
    response = client.post(
        "/admin/chat/openinghours/add/",
        {"weekday": "0", "opens_at": "19:00", "closes_at": "01:00"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    response = client.post(
        "/admin/chat/openingexception/add/",
        {"date": "2026-12-25", "closed": "on", "note": "Eerste Kerstdag"},
    )
    assert response.status_code == 302
    schedule = selectors.schedule()
    assert schedule.weekly[0][0].closes == dt.time(1)
    assert dt.date(2026, 12, 25) in schedule.exceptions


# --- is anybody watching the queue? ------------------------------------------------------


@pytest.mark.django_db
def test_a_console_watches_the_queue_until_it_is_gone_or_not_heard_of(clock, counsellor) -> None:  # type: ignore[no-untyped-def]
    """Said present: watched. Closed: not. A worker killed with the socket: not watched once
    HAVEN_CONSOLE_PRESENCE_SECONDS passed without a word."""
    import uuid

    assert not selectors.queue_watched()
    tab = uuid.uuid4()
    services.console_present(presence_id=tab, user=counsellor)
    assert selectors.queue_watched()
    services.console_gone(presence_id=tab)
    assert not selectors.queue_watched()
    services.console_present(presence_id=tab, user=counsellor)
    clock.advance(seconds=61)
    assert not selectors.queue_watched()


async def consoles_become(count: int) -> None:
    """Wait (up to 5 s) until ``count`` consoles are said present: the console says so from
    its own task, just after its hello."""
    for _ in range(100):
        if await database_sync_to_async(ConsolePresence.objects.count)() == count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not {count} consoles present")


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_waiting_visitor_is_told_when_nobody_watches_and_when_someone_comes(  # type: ignore[no-untyped-def]
    settings, counsellor
) -> None:
    """No console open: the welcome says so. A console opens: within a heartbeat the visitor
    is told someone watches now. The console closes: told again."""
    settings.HAVEN_PRESENCE_HEARTBEAT_SECONDS = 1
    visitor, welcome = await start_visitor()
    assert welcome["watched"] is False
    console, _hello = await connect_console(counsellor)
    await consoles_become(1)
    told = await receive_until(visitor, "queue_position")
    assert (told["position"], told["watched"]) == (1, True)
    await console.disconnect()
    await consoles_become(0)
    told = await receive_until(visitor, "queue_position")
    assert told["watched"] is False
    await visitor.disconnect()
    await asyncio.sleep(0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_start_outside_the_hours_gets_a_closed_error_frame(settings) -> None:  # type: ignore[no-untyped-def]
    """The socket stays open; the frame names the next opening."""
    from haven.chat.tests.test_consumers import connect, receive

    await database_sync_to_async(
        lambda: OpeningException.objects.create(date=dt.date.today(), closed=True)
    )()
    await database_sync_to_async(
        lambda: OpeningException.objects.create(
            date=dt.date.today() - dt.timedelta(days=1), closed=True
        )
    )()
    visitor = await connect("/ws/visitor/")
    await visitor.send_json_to({"type": "start"})
    frame = await receive(visitor)
    assert (frame["type"], frame["code"]) == ("error", "closed")
    await visitor.disconnect()


@pytest.mark.django_db
def test_a_try_while_closed_does_not_count_towards_the_start_limit(clock, settings) -> None:  # type: ignore[no-untyped-def]
    """People sharing an address who press "start" while closed are not locked out later."""
    settings.HAVEN_STARTS_PER_SOURCE_PER_HOUR = 1
    evenings()
    for _ in range(3):
        with pytest.raises(services.Closed):
            services.conversation_start(language="nl", source="shared")
    clock.advance(hours=9)
    services.conversation_start(language="nl", source="shared")


@pytest.mark.django_db
def test_consoles_of_a_dead_worker_are_cleared_in_time(clock, counsellor) -> None:  # type: ignore[no-untyped-def]
    import uuid

    services.console_present(presence_id=uuid.uuid4(), user=counsellor)
    clock.advance(seconds=601)
    services.console_present(presence_id=uuid.uuid4(), user=counsellor)
    assert ConsolePresence.objects.count() == 1


# --- available or away ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_counsellor_away_or_at_their_limit_accepts_nothing(clock, counsellor) -> None:  # type: ignore[no-untyped-def]
    """Away: no accept. A limit of one: the second waits until the first ends. No limit
    again: as before."""
    first = services.conversation_start(language="nl")[0]
    second = services.conversation_start(language="nl")[0]
    services.counsellor_availability_set(user=counsellor, available=False, max_chats=1)
    with pytest.raises(services.ConversationUnavailable) as refused:
        services.conversation_accept(conversation_id=first.id, counsellor=counsellor)
    assert "afwezig" in refused.value.message  # (Dutch, the default language)
    services.counsellor_availability_set(user=counsellor, available=True, max_chats=1)
    services.conversation_accept(conversation_id=first.id, counsellor=counsellor)
    with pytest.raises(services.ConversationUnavailable):
        services.conversation_accept(conversation_id=second.id, counsellor=counsellor)
    services.conversation_end(conversation_id=first.id, party="visitor")
    services.conversation_accept(conversation_id=second.id, counsellor=counsellor)
    assert selectors.availability_of(counsellor) == (True, 1)
    services.counsellor_availability_set(user=counsellor, available=True, max_chats=0)
    assert selectors.availability_of(counsellor) == (True, None)
    with pytest.raises(services.MessageInvalid):
        services.counsellor_availability_set(user=counsellor, available=True, max_chats=99)


@pytest.mark.django_db
def test_only_available_counsellors_watch_the_queue(clock, counsellor, make_counsellor) -> None:  # type: ignore[no-untyped-def]
    """Every open console away: waiting visitors are told nobody is there. One colleague
    available again: watched."""
    import uuid

    colleague = make_counsellor("bram")
    services.console_present(presence_id=uuid.uuid4(), user=counsellor)
    services.console_present(presence_id=uuid.uuid4(), user=colleague)
    services.counsellor_availability_set(user=counsellor, available=False, max_chats=0)
    assert selectors.queue_watched()
    services.counsellor_availability_set(user=colleague, available=False, max_chats=0)
    assert not selectors.queue_watched()
    services.counsellor_availability_set(user=colleague, available=True, max_chats=2)
    assert selectors.queue_watched()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_console_sets_availability_and_every_console_of_theirs_hears_it(  # type: ignore[no-untyped-def]
    counsellor,
) -> None:
    """In hello, then by the frame; an accept while away is refused with a word why."""
    first, hello = await connect_console(counsellor)
    assert hello["availability"] == {"type": "availability", "available": True, "max_chats": 0}
    second, _hello = await connect_console(counsellor)
    await first.send_json_to({"type": "availability", "available": False, "max_chats": 3})
    for console in (first, second):
        told = await receive_until(console, "availability")
        assert (told["available"], told["max_chats"]) == (False, 3)
    visitor, welcome = await start_visitor()
    await first.send_json_to({"type": "accept", "conversation": welcome["conversation"]})
    refused = await receive_until(first, "error")
    assert refused["code"] == "unavailable"
    await first.send_json_to({"type": "availability", "available": True, "max_chats": "3"})
    assert (await receive_until(first, "error"))["code"] == "bad_field"
    for socket in (first, second, visitor):
        await socket.disconnect()


# --- the counsellor's notes ---------------------------------------------------------------


@pytest.mark.django_db
def test_notes_are_the_counsellors_and_go_with_the_transcript(
    clock, counsellor, make_counsellor
) -> None:  # type: ignore[no-untyped-def]
    """Written by the conversation's counsellor (a colleague cannot), encrypted at rest,
    shown on the coding page, deleted by the retention job with the messages."""
    from django.db import connection

    from haven.chat.models import Conversation

    conversation = services.conversation_start(language="nl")[0]
    services.conversation_accept(conversation_id=conversation.id, counsellor=counsellor)
    services.conversation_notes_save(
        actor=counsellor, conversation_id=conversation.id, text="Synthetic note"
    )
    with pytest.raises(services.NotFound):
        services.conversation_notes_save(
            actor=make_counsellor("bram"), conversation_id=conversation.id, text="x"
        )
    with pytest.raises(services.MessageInvalid):
        services.conversation_notes_save(
            actor=counsellor, conversation_id=conversation.id, text="x" * 4001
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT notes FROM chat_conversation")
        (stored,) = cursor.fetchone()
    assert "Synthetic" not in stored
    services.conversation_end(conversation_id=conversation.id, party="visitor")
    client = Client()
    sign_in_fully(client, counsellor)
    page = client.get(f"/en/console/cases/conversation/{conversation.id}/").content.decode()
    assert "Synthetic note" in page
    clock.advance(days=31)
    services.transcripts_purge()
    assert Conversation.objects.get(pk=conversation.id).notes == ""


# --- a conversation's name in the console ---------------------------------------------------


@pytest.mark.django_db
def test_conversations_are_numbered_by_the_helplines_day(clock, counsellor) -> None:  # type: ignore[no-untyped-def]
    """1, 2, 3 from midnight in Amsterdam (23:30 UTC in winter is already the next day);
    the queue and the consoles carry the number, the language and a return."""
    numbers = [services.conversation_start(language="nl")[0].day_number for _ in range(3)]
    assert numbers == [1, 2, 3]
    clock.advance(hours=14, minutes=30)  # 23:30 UTC = 00:30 in Amsterdam, 3 March
    late = services.conversation_start(language="en")[0]
    assert late.day_number == 1
    entry = next(e for e in selectors.waiting_queue() if e["conversation"] == str(late.id))
    assert (entry["number"], entry["language"], entry["returning"]) == (1, "en", False)
    services.conversation_accept(conversation_id=late.id, counsellor=counsellor)
    (live,) = selectors.live_conversations()
    assert (live["number"], live["language"], live["counsellor"]) == (1, "en", "anna")


@pytest.mark.django_db
def test_the_start_page_says_when_nobody_is_online(clock, counsellor) -> None:  # type: ignore[no-untyped-def]
    """Before the start, not only after it: nobody online, the chat can still start and a
    message is offered. With a console open, nothing is said."""
    import uuid

    html = Client().get("/").content.decode()
    assert 'id="nobody-notice"' in html and 'id="start-chat">' in html
    services.console_present(presence_id=uuid.uuid4(), user=counsellor)
    assert 'id="nobody-notice"' not in Client().get("/").content.decode()
