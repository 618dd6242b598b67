"""Events from services reach the channel layer after commit without making the writer wait
(haven.core.broadcast)."""

from __future__ import annotations

import asyncio
import threading

from channels.layers import get_channel_layer

from haven.core import broadcast


async def test_a_thread_bound_to_a_loop_hands_events_over_in_order_and_goes_on() -> None:
    """publish() from a database thread returns at once; the loop sends the events in the
    order they were published."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("g", channel)
    loop = asyncio.get_running_loop()
    returned = threading.Event()

    def publish_many() -> None:
        with broadcast.bound_to(loop):
            for n in range(50):
                broadcast.publish("g", {"type": "haven.event", "n": n})
        returned.set()

    await asyncio.to_thread(publish_many)
    assert returned.is_set()
    received = [(await asyncio.wait_for(layer.receive(channel), 2))["n"] for _ in range(50)]
    assert received == list(range(50))


async def test_a_failing_layer_loses_only_the_live_push(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Sending fails (Redis away): nothing is raised into the writer, the failure is counted
    and logged, and later events go out again when the layer works."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("g", channel)
    real = layer.group_send_many

    async def broken(items):  # type: ignore[no-untyped-def]
        raise ConnectionError("away")

    monkeypatch.setattr(layer, "group_send_many", broken)
    loop = asyncio.get_running_loop()
    await asyncio.to_thread(
        lambda: broadcast.publish("g", {"type": "haven.event", "n": 1}, loop=loop)
    )
    await asyncio.sleep(0.05)
    assert broadcast._dispatcher(loop).failures == 1
    monkeypatch.setattr(layer, "group_send_many", real)
    await asyncio.to_thread(
        lambda: broadcast.publish("g", {"type": "haven.event", "n": 2}, loop=loop)
    )
    assert (await asyncio.wait_for(layer.receive(channel), 2))["n"] == 2


async def test_without_a_loop_publish_sends_at_once() -> None:
    """From a thread bound to no loop (a management command, a page, a test calling a
    service): sent, and waited for, before publish returns."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("g", channel)
    await asyncio.to_thread(broadcast.publish, "g", {"type": "haven.event", "n": 3})
    assert (await asyncio.wait_for(layer.receive(channel), 2))["n"] == 3
