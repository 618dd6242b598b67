"""A connection that ends with an error lets go of what it held, as a clean close does."""

from __future__ import annotations

import asyncio

import pytest

from haven.chat import positions
from haven.chat.consumers import VisitorConsumer
from haven.chat.events import conversation_group
from haven.chat.tests.test_consumers import TIMEOUT, start_visitor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_a_socket_whose_event_cannot_be_sent_leaves_its_groups_and_the_keeper(
    monkeypatch,
) -> None:  # type: ignore[no-untyped-def]
    """When forwarding an event fails because the client has gone (uvicorn raises an
    OSError), the connection ends, the keeper no longer counts the waiting visitor as
    connected (so the absence rule can end the conversation), and the channel is out of
    its conversation's group and forgotten by the layer."""
    from channels.layers import get_channel_layer

    visitor, welcome = await start_visitor()
    conversation = welcome["conversation"]
    keeper = positions.keeper()
    assert conversation in keeper.sockets
    [channel] = keeper.sockets[conversation]

    async def gone(self, message):  # type: ignore[no-untyped-def]
        raise ConnectionResetError("the client has gone")

    monkeypatch.setattr(VisitorConsumer, "haven_event", gone)
    await visitor.send_json_to({"type": "send", "client_id": "m1", "text": "Hallo"})
    for _ in range(int(TIMEOUT * 20)):
        if conversation not in keeper.sockets:
            break
        await asyncio.sleep(0.05)
    assert conversation not in keeper.sockets
    layer = get_channel_layer()
    if hasattr(layer, "group_size"):  # the embedded layer
        assert layer.group_size(conversation_group(conversation)) == 0
        assert channel not in layer._queues
    else:  # channels-redis: its queue for the channel is gone
        assert channel not in layer._get_layer().channels
    await visitor.wait(TIMEOUT)
