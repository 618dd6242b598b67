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


async def test_events_wait_while_the_layer_is_away_and_go_in_order(monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    """Sending fails (Redis away): nothing is raised into the writer, the outage is logged
    once, and the waiting events go out, in order, as soon as the layer works again,
    without waiting for a later one."""
    import logging

    from haven.core import outage

    outage.channel_layer.recovered()
    monkeypatch.setattr(broadcast, "RETRY_FIRST_SECONDS", 0.05)
    caplog.set_level(logging.WARNING, logger="haven.outage")
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("g", channel)
    real = layer.group_send_many
    calls = 0

    async def broken(items):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        raise ConnectionError("away")

    monkeypatch.setattr(layer, "group_send_many", broken)
    loop = asyncio.get_running_loop()
    for n in (1, 2):
        await asyncio.to_thread(
            lambda n=n: broadcast.publish("g", {"type": "haven.event", "n": n}, loop=loop)
        )
    await asyncio.sleep(0.3)
    assert calls >= 2  # tried again by itself
    assert outage.channel_layer.down
    monkeypatch.setattr(layer, "group_send_many", real)
    received = [(await asyncio.wait_for(layer.receive(channel), 2))["n"] for _ in range(2)]
    assert received == [1, 2]
    assert not outage.channel_layer.down
    lines = [r.getMessage() for r in caplog.records]
    assert sum("cannot be reached" in line for line in lines) == 1
    assert sum("is back after" in line for line in lines) == 1


def test_waiting_events_are_bounded(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Past MAX_WAITING, the oldest waiting events go (the messages are stored)."""
    monkeypatch.setattr(broadcast, "MAX_WAITING", 3)
    dispatcher = broadcast._Dispatcher(asyncio.new_event_loop())
    dispatcher.pending.extend(("g", {"n": n}) for n in range(5))
    dispatcher._bound()
    assert [m["n"] for _, m in dispatcher.pending] == [2, 3, 4]
    assert dispatcher.failures == 2
    dispatcher.loop.close()


async def test_without_a_loop_publish_sends_at_once() -> None:
    """From a thread bound to no loop (a management command, a page, a test calling a
    service): sent, and waited for, before publish returns."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("g", channel)
    await asyncio.to_thread(broadcast.publish, "g", {"type": "haven.event", "n": 3})
    assert (await asyncio.wait_for(layer.receive(channel), 2))["n"] == 3
