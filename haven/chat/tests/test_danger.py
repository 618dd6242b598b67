"""Danger words: a waiting visitor's words that match the team's list raise the conversation
in the queue and mark it (a hint, never a decision)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from haven.audit.models import AuditEntry
from haven.chat import danger, selectors, services
from haven.chat.models import DangerTerm
from haven.chat.tests.test_consumers import (
    connect_console,
    receive_until,
    start_visitor,
)
from haven.conftest import sign_in_fully
from haven.core import clock


@pytest.fixture
def anna(make_counsellor):  # type: ignore[no-untyped-def]
    return make_counsellor("anna")


# --- the pure matching --------------------------------------------------------------------


def test_terms_match_whole_words_whatever_the_case_accents_and_spacing() -> None:
    pattern = danger.compile_terms(["in gevaar", "Bang", " ", "hij komt ERAAN"])
    assert danger.found(pattern, "Ik ben IN   gevaar!")
    assert danger.found(pattern, "ik ben zo bäng")
    assert danger.found(pattern, "hij komt\neraan")
    assert not danger.found(pattern, "ik was in bangkok")  # not a whole word
    assert not danger.found(pattern, "ingevaar")
    assert not danger.found(pattern, "alles goed")


def test_no_terms_match_nothing() -> None:
    assert danger.compile_terms([]) is None
    assert danger.compile_terms(["", "  "]) is None
    assert not danger.found(None, "in gevaar")


def test_terms_are_literal_text_not_patterns() -> None:
    pattern = danger.compile_terms(["a.b", "(x)"])
    assert danger.found(pattern, "zeg a.b nu")
    assert not danger.found(pattern, "zeg axb nu")


# --- the queue ------------------------------------------------------------------------------


def _terms(*terms: str) -> None:
    for term in terms:
        DangerTerm.objects.create(term=term, created_at=clock.now())
    selectors.danger_terms_forget()


@pytest.mark.django_db
def test_a_waiting_visitors_danger_words_raise_the_conversation(clock) -> None:  # type: ignore[no-untyped-def]
    """The first match marks it and puts it ahead of those not raised (the raised among
    themselves by their wait); a later message does not search again; words in an active
    conversation do not raise anything."""
    _terms("in gevaar")
    started = []
    for _ in range(3):
        clock.advance(seconds=1)
        started.append(services.conversation_start(language="nl")[0])
    first, second, third = started
    services.message_send(
        conversation_id=third.id, sender="visitor", text="Ik ben in gevaar", client_id="m1"
    )
    third.refresh_from_db()
    assert third.danger_at is not None
    assert selectors.waiting_order() == [str(third.id), str(first.id), str(second.id)]
    assert [selectors.queue_position(c) for c in (third, first, second)] == [1, 2, 3]
    services.message_send(
        conversation_id=second.id, sender="visitor", text="IN GEVAAR", client_id="m2"
    )
    second.refresh_from_db()
    assert selectors.waiting_order() == [str(second.id), str(third.id), str(first.id)]
    assert [e["danger"] for e in selectors.waiting_queue()] == [True, True, False]
    marked = third.danger_at
    clock.advance(minutes=1)
    services.message_send(
        conversation_id=third.id, sender="visitor", text="nog steeds in gevaar", client_id="m3"
    )
    third.refresh_from_db()
    assert third.danger_at == marked


@pytest.mark.django_db
def test_words_in_an_active_conversation_raise_nothing(counsellor) -> None:  # type: ignore[no-untyped-def]
    _terms("in gevaar")
    conversation = services.conversation_start(language="nl")[0]
    services.conversation_accept(conversation_id=conversation.id, counsellor=counsellor)
    services.message_send(
        conversation_id=conversation.id, sender="visitor", text="in gevaar", client_id="m4"
    )
    conversation.refresh_from_db()
    assert conversation.danger_at is None


@pytest.mark.django_db
def test_the_search_costs_the_same_however_long_the_queue(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    """A batch of waiting visitors' messages costs the same statements with 3 or 60 waiting;
    a match adds one UPDATE."""
    _terms("in gevaar")
    selectors.danger_pattern()  # read once (every 30 s, not per message)

    def batch(waiting: int, text: str) -> int:
        conversations = [services.conversation_start(language="nl")[0] for _ in range(waiting)]
        requests = [
            services.MessageRequest(
                conversation_id=conversations[0].id, sender="visitor", text=text, client_id=f"c{i}"
            )
            for i in range(2)
        ]
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            services.messages_send(requests)
        return len(queries)

    calm_3, calm_60 = batch(3, "hallo"), batch(60, "hallo")
    assert calm_3 == calm_60
    assert batch(3, "ik ben in gevaar") == calm_3 + 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_consoles_see_it_raised_and_waiting_visitors_their_new_places(anna) -> None:  # type: ignore[no-untyped-def]
    """The console's queue entry says ``danger`` (with ``reorder``); the visitor who was
    first is told they are second now, the raised one that they are first."""
    await database_sync_to_async(_terms)("in gevaar")
    console, _ = await connect_console(anna)
    ahead, _ = await start_visitor()
    raised, welcome = await start_visitor()
    assert welcome["position"] == 2
    await raised.send_json_to({"type": "send", "client_id": "d1", "text": "Ik ben in gevaar"})
    for _ in range(10):
        entry = await receive_until(console, "queue_entry")
        if entry["entry"]["conversation"] == welcome["conversation"] and entry["entry"]["seq"]:
            break
    assert entry["entry"]["danger"] is True and entry.get("reorder") is True
    assert (await receive_until(ahead, "queue_position"))["position"] == 2
    assert (await receive_until(raised, "queue_position"))["position"] == 1
    for socket in (console, ahead, raised):
        await socket.disconnect()


@pytest.mark.django_db
def test_supervisors_keep_the_list_counsellors_cannot(make_staff) -> None:  # type: ignore[no-untyped-def]
    """One per line, trimmed, repeats dropped (case and accents aside), audited with the
    counts only; the page says it is a hint; a counsellor gets 404."""
    supervisor = make_staff("sem", "supervisor")
    client = Client()
    sign_in_fully(client, supervisor)
    page = client.get("/en/console/danger-words/").content.decode()
    assert "a hint, never a decision" in page
    response = client.post(
        "/en/console/danger-words/", {"terms": "in gevaar\n  IN GEVAAR \n\nhij komt eraan\n"}
    )
    assert response.status_code == 302
    assert sorted(DangerTerm.objects.values_list("term", flat=True)) == [
        "hij komt eraan",
        "in gevaar",
    ]
    entry = AuditEntry.objects.get(action="danger_terms.change")
    assert entry.detail == {"before": 0, "after": 2}
    too_long = client.post("/en/console/danger-words/", {"terms": "x" * 81})
    assert too_long.status_code == 200 and DangerTerm.objects.count() == 2
    counsellor = Client()
    sign_in_fully(counsellor, make_staff("cas", "counsellor"))
    assert counsellor.get("/en/console/danger-words/").status_code == 404
    assert counsellor.post("/en/console/danger-words/", {"terms": "x"}).status_code == 404
    assert DangerTerm.objects.count() == 2
