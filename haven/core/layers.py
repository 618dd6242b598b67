"""The embedded channel layer: one process, every delivery O(1), nothing scanned or copied.

Channels' own ``InMemoryChannelLayer`` walks every channel and every group on each send and
receive (to expire old messages), starts a task and deep-copies the message for every
member of a group. Under a surge that grows with the number of people connected. This
layer keeps, per channel, a bounded queue and the groups it is in, so that:

* ``group_send`` puts the same message object into each member's queue (no copy, no task):
  receivers must treat messages as read-only, which Haven's consumers do;
* a channel is forgotten, and left out of every group, when its consumer stops receiving
  (its ``receive`` is cancelled), so nothing has to expire;
* a full queue drops the message and counts it (``dropped``): live events are best effort
  by design (docs/protocol.md), and a client catches up from the database with its last
  sequence number.

Only for one process: several workers need the Redis layer (:class:`RedisChannelLayer`
below, channels-redis' pub/sub layer with one addition).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections import defaultdict
from typing import Any

import redis.exceptions
from channels.layers import BaseChannelLayer
from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _wrap_close, decode_hosts

from haven.core import outage

logger = logging.getLogger(__name__)


class LocalChannelLayer(BaseChannelLayer):  # type: ignore[misc]
    extensions = ["groups", "flush"]

    def __init__(self, capacity: int = 1000, **kwargs: Any) -> None:
        super().__init__(capacity=capacity, **kwargs)
        self._queues: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self._groups: defaultdict[str, set[str]] = defaultdict(set)
        self._memberships: defaultdict[str, set[str]] = defaultdict(set)
        self._names = itertools.count(1)
        self._prefix = secrets.token_hex(4)
        self.dropped = 0

    async def new_channel(self, prefix: str = "specific.") -> str:
        name = f"{prefix}local!{self._prefix}{next(self._names)}"
        self._queues[name] = asyncio.Queue(maxsize=self.capacity)
        return name

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        self._deliver(channel, message)

    async def receive(self, channel: str) -> dict[str, Any]:
        queue = self._queues.get(channel)
        if queue is None:
            # A channel named by someone else (not from new_channel): give it a queue, as
            # the stock layer does, so tests and tools that pick names still work.
            queue = self._queues[channel] = asyncio.Queue(maxsize=self.capacity)
        try:
            return await queue.get()
        except asyncio.CancelledError:
            # The consumer has stopped: nothing will read this channel again.
            self._forget(channel)
            raise

    async def group_add(self, group: str, channel: str) -> None:
        self._groups[group].add(channel)
        self._memberships[channel].add(group)

    async def group_discard(self, group: str, channel: str) -> None:
        members = self._groups.get(group)
        if members is not None:
            members.discard(channel)
            if not members:
                del self._groups[group]
        groups = self._memberships.get(channel)
        if groups is not None:
            groups.discard(group)
            if not groups:
                del self._memberships[channel]

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        for channel in tuple(self._groups.get(group, ())):
            self._deliver(channel, message)

    async def group_send_many(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        """Many group messages, in order (see RedisChannelLayer.group_send_many)."""
        for group, message in items:
            await self.group_send(group, message)

    def group_size(self, group: str) -> int:
        return len(self._groups.get(group, ()))

    async def delete_channel(self, channel: str) -> None:
        """The consumer of ``channel`` has stopped: forget it and leave it out of every group
        (also when it stopped without its ``receive`` being cancelled)."""
        self._forget(channel)

    async def ping(self) -> None:
        """Reachable: it is in this process."""

    async def flush(self) -> None:
        self._queues.clear()
        self._groups.clear()
        self._memberships.clear()

    async def close(self) -> None:
        pass

    def _deliver(self, channel: str, message: dict[str, Any]) -> None:
        queue = self._queues.get(channel)
        if queue is None:
            return  # its consumer has gone
        try:
            queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped += 1
            if self.dropped in (1, 10, 100) or self.dropped % 1000 == 0:
                logger.warning(
                    "A connection is not reading its events: %d live events dropped so far "
                    "(the client catches up from the database).",
                    self.dropped,
                )

    def _forget(self, channel: str) -> None:
        self._queues.pop(channel, None)
        for group in self._memberships.pop(channel, set()):
            members = self._groups.get(group)
            if members is not None:
                members.discard(channel)
                if not members:
                    del self._groups[group]


# What Redis being away looks like to the layer.
REDIS_DOWN = (OSError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
# While Redis is away, how often the subscriptions it could not take are tried again.
RESUBSCRIBE_SECONDS = 0.5


class _Shard(RedisSingleShardConnection):  # type: ignore[misc]
    """channels-redis' connection to one Redis, whose subscriptions survive Redis going
    away: a subscription that fails (a new socket's channel, a group it joins) is kept and
    taken as soon as Redis answers again, so that joining never fails and nobody's socket
    is dropped; subscriptions held when Redis went away are renewed by redis-py when it
    reconnects. The outage is logged once (haven.core.outage), not once a second."""

    def __init__(self, host: Any, channel_layer: Any) -> None:
        super().__init__(host, channel_layer)
        self._wanted: set[str] = set()
        self._resubscribing: asyncio.Task[None] | None = None

    async def subscribe(self, channel: str) -> None:
        try:
            await super().subscribe(channel)
        except REDIS_DOWN as exc:
            outage.channel_layer.failed(exc)
            self._wanted.add(channel)
            if self._resubscribing is None or self._resubscribing.done():
                self._resubscribing = asyncio.ensure_future(self._resubscribe())

    async def unsubscribe(self, channel: str) -> None:
        self._wanted.discard(channel)
        try:
            await super().unsubscribe(channel)
        except REDIS_DOWN:
            # Gone with the connection; a later reconnect may renew it, and events for a
            # channel nobody reads are ignored.
            self._subscribed_to.discard(channel)

    async def _resubscribe(self) -> None:
        while self._wanted:
            await asyncio.sleep(RESUBSCRIBE_SECONDS)
            for channel in list(self._wanted):
                try:
                    await RedisSingleShardConnection.subscribe(self, channel)
                except REDIS_DOWN:
                    break
                self._wanted.discard(channel)
                outage.channel_layer.recovered()

    async def _do_receiving(self) -> None:
        # channels-redis' own loop, without a traceback a second while Redis is away.
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=0.1
                    )
                    # (Recovery is declared by a send or a subscription that works, not
                    # here: a receive can work while sends fail.)
                    self._receive_message(message)
                else:
                    await asyncio.sleep(0.1)
            except (TimeoutError, asyncio.CancelledError, GeneratorExit):
                raise
            except REDIS_DOWN as exc:
                outage.channel_layer.failed(exc)
                await asyncio.sleep(RESUBSCRIBE_SECONDS)
            except Exception:
                logger.exception("Unexpected exception in the channel layer's receive task")
                await asyncio.sleep(1)


class _LoopLayer(RedisPubSubLoopLayer):  # type: ignore[misc]
    def __init__(self, hosts: Any = None, **kwargs: Any) -> None:
        super().__init__(hosts=hosts, **kwargs)
        self._shards = [_Shard(host, self) for host in decode_hosts(hosts)]


class RedisChannelLayer(RedisPubSubChannelLayer):  # type: ignore[misc]
    """channels-redis' pub/sub layer, able to publish many group messages in one round trip.

    Its own ``group_send`` publishes one message at a time, waiting for Redis' answer under
    a lock before the next: a worker could then publish no more messages a second than it
    has round trips to Redis, and live events fell seconds behind under load.
    :meth:`group_send_many` (used by haven.core.broadcast) sends a batch of them as one
    pipeline instead, in order. Receiving is channels-redis' own, unchanged;
    :meth:`delete_channel` lets go of a channel whose consumer stopped.

    It relies on internals of channels-redis 4 (pinned below 5 in pyproject.toml): a
    group's channel name, the shard's Redis client, and the per-channel queues; tests in
    the services run use them.
    """

    def _get_layer(self) -> Any:
        # As channels-redis' own, with shards that survive Redis going away (_Shard).
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = self._layers[loop] = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
        return layer

    async def delete_channel(self, channel: str) -> None:
        """The consumer of ``channel`` has stopped: drop its queue and its subscription, as
        channels-redis does itself only when a ``receive`` is cancelled (a consumer that
        stopped for another reason would otherwise keep a queue that fills forever)."""
        layer = self._get_layer()
        if channel in layer.channels:
            del layer.channels[channel]
            await layer._get_shard(channel).unsubscribe(channel)

    async def ping(self) -> None:
        """Raises if any of the layer's Redis servers does not answer."""
        for shard in self._get_layer()._shards:
            shard._ensure_redis()
            await shard._redis.ping()

    async def group_send_many(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        layer = self._get_layer()
        batches: dict[int, tuple[Any, list[tuple[str, bytes]]]] = {}
        for group, message in items:
            name = layer._get_group_channel_name(group)
            shard = layer._get_shard(name)
            batches.setdefault(id(shard), (shard, []))[1].append((name, self.serialize(message)))
        for shard, published in batches.values():
            shard._ensure_redis()
            async with shard._redis.pipeline(transaction=False) as pipe:
                for name, data in published:
                    pipe.publish(name, data)
                await pipe.execute()
