"""The embedded channel layer (haven.core.layers.LocalChannelLayer)."""

from __future__ import annotations

import asyncio

import pytest

from haven.core.layers import LocalChannelLayer

pytestmark = pytest.mark.asyncio


async def test_a_group_message_reaches_every_member_once_and_no_one_else() -> None:
    layer = LocalChannelLayer()
    a, b, c = [await layer.new_channel() for _ in range(3)]
    await layer.group_add("g", a)
    await layer.group_add("g", b)
    await layer.group_add("g", a)  # twice is once
    message = {"type": "haven.event", "n": 1}
    await layer.group_send("g", message)
    assert await layer.receive(a) is message  # the same object: nothing is copied
    assert await layer.receive(b) is message
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(layer.receive(c), 0.05)


async def test_many_group_messages_keep_their_order() -> None:
    layer = LocalChannelLayer()
    channel = await layer.new_channel()
    await layer.group_add("g", channel)
    await layer.group_add("h", channel)
    await layer.group_send_many([("g", {"type": "x", "n": 1}), ("h", {"type": "x", "n": 2})])
    assert [(await layer.receive(channel))["n"] for _ in range(2)] == [1, 2]


async def test_a_stopped_consumer_is_forgotten_by_its_groups() -> None:
    """When a consumer stops (its receive is cancelled), its channel leaves every group, so
    nothing is kept for it and nothing has to expire."""
    layer = LocalChannelLayer()
    channel = await layer.new_channel()
    await layer.group_add("g", channel)
    await layer.group_add("h", channel)
    waiting = asyncio.create_task(layer.receive(channel))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert layer.group_size("g") == layer.group_size("h") == 0
    await layer.group_send("g", {"type": "x"})  # to nobody: no error
    await layer.send(channel, {"type": "x"})


async def test_a_channel_that_does_not_read_loses_events_past_its_capacity_and_says_so() -> None:
    """Live events are best effort: a full queue drops (and counts) instead of holding up
    everyone else; the client catches up from the database."""
    layer = LocalChannelLayer(capacity=2)
    slow, quick = await layer.new_channel(), await layer.new_channel()
    for channel in (slow, quick):
        await layer.group_add("g", channel)
    for n in range(3):
        await layer.group_send("g", {"type": "x", "n": n})
        await layer.receive(quick)
    assert layer.dropped == 1
    assert [(await layer.receive(slow))["n"] for _ in range(2)] == [0, 1]


async def test_flush_empties_everything() -> None:
    layer = LocalChannelLayer()
    channel = await layer.new_channel()
    await layer.group_add("g", channel)
    await layer.flush()
    assert layer.group_size("g") == 0
