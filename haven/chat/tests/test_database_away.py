"""While the database is away, nothing is acknowledged, the client is asked to send again,
and the outage is logged once (haven.core.outage), not once per frame."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from haven.chat import services
from haven.chat.tests.test_consumers import connect, receive, receive_each, start_visitor
from haven.core import outage

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture(autouse=True)
def _no_outage_left() -> None:
    outage.database.recovered()


async def test_a_message_that_cannot_be_stored_is_answered_try_again(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """No ack, an error ``try_again`` naming the message and when to send it again; the
    socket stays open, and the same message sent again once the database is back is
    stored and acknowledged."""
    visitor, welcome = await start_visitor()
    stored = services.messages_send

    def away(requests):  # type: ignore[no-untyped-def]
        raise OperationalError("connection refused")

    monkeypatch.setattr(services, "messages_send", away)
    for attempt in range(2):
        await visitor.send_json_to({"type": "send", "client_id": "m1", "text": "Hallo"})
        error = await receive(visitor)
        assert error["type"] == "error" and error["code"] == "try_again", attempt
        assert error["client_id"] == "m1"
        assert error["conversation"] == welcome["conversation"]
        assert error["retry_after"] == 2.0
        assert error["message"]
    monkeypatch.setattr(services, "messages_send", stored)
    await visitor.send_json_to({"type": "send", "client_id": "m1", "text": "Hallo"})
    frames = await receive_each(visitor, "ack", "message")
    assert frames["ack"]["seq"] == 1
    await visitor.disconnect()


async def test_a_start_while_the_database_is_away_is_answered_try_again(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A start that cannot be stored is answered ``try_again`` (without a client_id): the
    page sends its start again after the pause, and it works once the database is back."""
    visitor = await connect("/ws/visitor/")
    start = services.conversation_start

    def away(**kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("connection refused")

    monkeypatch.setattr(services, "conversation_start", away)
    await visitor.send_json_to({"type": "start"})
    error = await receive(visitor)
    assert (error["type"], error["code"], error["retry_after"]) == ("error", "try_again", 2.0)
    assert "client_id" not in error
    monkeypatch.setattr(services, "conversation_start", start)
    await visitor.send_json_to({"type": "start"})
    assert (await receive(visitor))["type"] == "welcome"
    await visitor.disconnect()


@pytest.fixture
def anna(make_counsellor):  # type: ignore[no-untyped-def]
    return make_counsellor("anna")


async def test_the_console_handshake_is_refused_not_signed_out_while_the_database_is_away(
    monkeypatch, anna
) -> None:  # type: ignore[no-untyped-def]
    """With the session unreadable the console's handshake is refused (the browser tries
    again), never closed with 4403, which would stop the console as if signed out."""
    from channels.testing import WebsocketCommunicator

    from haven.accounts import middleware
    from haven.asgi import application
    from haven.chat.tests.test_consumers import ORIGIN, session_cookie

    cookie = await session_cookie(anna)

    def away(session_key):  # type: ignore[no-untyped-def]
        raise OperationalError("connection refused")

    monkeypatch.setattr(middleware, "_session_and_user", away)
    console = WebsocketCommunicator(application, "/ws/console/", headers=[ORIGIN, cookie])
    connected, code = await console.connect(timeout=5)
    assert not connected
    assert code == 1011
