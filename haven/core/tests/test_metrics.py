"""/metrics: counts and durations in Prometheus' text format, nothing that names anyone."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from haven.chat import selectors, services

pytestmark = pytest.mark.django_db


def _value(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name} not in /metrics"
    return float(match.group(1))


def test_the_queue_figures_are_one_query(django_assert_num_queries, clock) -> None:  # type: ignore[no-untyped-def]
    """How many wait, how long the first has waited, how many are live: one query."""
    services.conversation_start(language="nl")
    clock.advance(seconds=90)
    services.conversation_start(language="nl")
    with django_assert_num_queries(1):
        waiting, longest, live = selectors.queue_figures()
    assert (waiting, round(longest), live) == (2, 90, 0)


@pytest.mark.django_db(transaction=True)
def test_metrics_show_the_queue_and_name_no_one(client: Client, clock, counsellor) -> None:  # type: ignore[no-untyped-def]
    """Waiting, longest wait and live come from the database; no conversation id, token,
    address or word of a message is in the text."""
    first, token = services.conversation_start(language="nl")
    services.message_send(
        conversation_id=first.id, sender="visitor", text="geheim woord", client_id="c1"
    )
    clock.advance(seconds=30)
    second, _ = services.conversation_start(language="nl")
    services.conversation_accept(conversation_id=second.id, counsellor=counsellor)
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert _value(text, "haven_visitors_waiting") == 1
    assert _value(text, "haven_conversations_live") == 1
    assert _value(text, "haven_longest_wait_seconds") == pytest.approx(30, abs=1)
    for secret in (str(first.id), str(second.id), token, "geheim", "127.0.0.1"):
        assert secret not in text


def test_an_empty_queue_has_waited_for_nothing(clock) -> None:  # type: ignore[no-untyped-def]
    assert selectors.queue_figures() == (0, 0.0, 0)


@pytest.fixture
def counsellor(make_counsellor):  # type: ignore[no-untyped-def]
    return make_counsellor("anna")


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_conversation_is_counted_on_the_worker() -> None:
    """An open visitor socket, a message stored and acknowledged, the time to its ack, and
    the socket closed again."""
    from haven.chat.tests.test_consumers import receive_each, start_visitor
    from haven.core import metrics

    def sample(name: str, **labels: str) -> float:
        return metrics.registry.get_sample_value(name, labels) or 0.0

    open_before = sample("haven_connections_open", endpoint="visitor")
    stored_before = sample("haven_messages_stored_total", sender="visitor")
    acks_before = sample("haven_ack_seconds_count", sender="visitor")
    visitor, _ = await start_visitor()
    assert sample("haven_connections_open", endpoint="visitor") == open_before + 1
    await visitor.send_json_to({"type": "send", "client_id": "m1", "text": "Hallo"})
    await receive_each(visitor, "ack", "message")
    assert sample("haven_messages_stored_total", sender="visitor") == stored_before + 1
    assert sample("haven_ack_seconds_count", sender="visitor") == acks_before + 1
    await visitor.disconnect()
    assert sample("haven_connections_open", endpoint="visitor") == open_before
