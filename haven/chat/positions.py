"""Per worker: the waiting visitors connected here, their places in the queue, their presence.

A visitor's place changes only when a conversation ahead of it leaves the queue (or, very
rarely, when one joins ahead of it). Services therefore send nothing to waiting visitors
themselves: each worker's keeper listens to the queue's changes (the ``queue_entry`` and
``queue_leave`` events every console gets), and after a change that adds or removes a
conversation it reads the queue's order once (ids only) and tells each of *its* waiting
visitors whose place changed their new place. A waiting visitor's message changes no
place, so it costs the keeper nothing; an accept costs one read per worker, however many
wait, and one frame per visitor who moved up.

Reading the order after the change was committed (rather than computing places inside
the transaction) keeps places right when two workers change the queue at the same moment:
the last read sees both changes.

The keeper also says, every HAVEN_PRESENCE_HEARTBEAT_SECONDS, that its waiting visitors
are still connected (see :func:`haven.chat.services.conversations_visitor_present`), so a
waiting visitor whose tab closed, or whose worker died, leaves the queue by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings

from haven.chat import selectors, services, waits
from haven.chat.events import CONSOLE_GROUP, QueuePositionEvent, group_message
from haven.core import db, outage

logger = logging.getLogger(__name__)

# What a waiting visitor was last told: place, estimated minutes, whether anybody watches.
Told = tuple[int, int | None, bool]

# How long the keeper waits after a change before reading the order, so that a burst of
# changes (a surge of new chats) costs one read.
SETTLE_SECONDS = 0.05
# After a failed read of the order (the database away), how long until the next try.
RETRY_SECONDS = 1.0


class Keeper:
    """One per event loop (that is, per worker process)."""

    def __init__(self) -> None:
        self.sockets: defaultdict[str, set[str]] = defaultdict(set)  # conversation -> channels
        # conversation -> (place, estimated minutes, watched) last told
        self.places: dict[str, Told] = {}
        self.fresh: set[uuid.UUID] = set()  # bound since the last heartbeat
        self.dirty = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    # --- called by visitor consumers ------------------------------------------------------

    def watch(self, conversation: str, channel: str, told: Told) -> None:
        """A socket on this worker is bound to a waiting conversation, and was ``told`` its
        place, the wait's estimate and whether anybody watches the queue."""
        self.start()
        self.sockets[conversation].add(channel)
        self.places[conversation] = told
        self.fresh.add(uuid.UUID(conversation))
        self.dirty.set()  # its place may have changed while it was being bound

    def unwatch(self, conversation: str, channel: str) -> None:
        channels = self.sockets.get(conversation)
        if channels is not None:
            channels.discard(channel)
            if not channels:
                del self.sockets[conversation]
                self.places.pop(conversation, None)

    # --- the work ---------------------------------------------------------------------------

    def start(self) -> None:
        if not self.tasks:
            self.tasks = [
                asyncio.create_task(self._listen()),
                asyncio.create_task(self._keep_places()),
                asyncio.create_task(self._heartbeat()),
            ]

    async def _listen(self) -> None:
        """Hear every change of the queue, from every worker. If the channel layer fails
        (Redis away), listen again a second later, and read the order then: changes made
        meanwhile were not heard."""
        layer = get_channel_layer()
        if layer is None:
            return
        while True:
            try:
                await self._listen_once(layer)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("Could not hear the queue's changes; trying again", exc_info=True)
                await asyncio.sleep(RETRY_SECONDS)
                self.dirty.set()

    async def _listen_once(self, layer: Any) -> None:
        channel = await layer.new_channel(prefix="positions.")
        try:
            await layer.group_add(CONSOLE_GROUP, channel)
            while True:
                message = await layer.receive(channel)
                event = message.get("event", {})
                # An entry with sequence number 0 is a new conversation; a leave removes
                # one; "reorder" moves one (back in the queue, or raised by danger terms).
                # Any other entry is a message from a waiting visitor: no place moves.
                if event.get("type") == "queue_leave" or (
                    event.get("type") == "queue_entry"
                    and (event["entry"]["seq"] == 0 or event.get("reorder"))
                ):
                    self.dirty.set()
        finally:
            with contextlib.suppress(Exception):
                await layer.group_discard(CONSOLE_GROUP, channel)

    async def _keep_places(self) -> None:
        while True:
            await self.dirty.wait()
            await asyncio.sleep(SETTLE_SECONDS)
            self.dirty.clear()
            if not self.sockets:
                continue
            try:
                order, accepted, watched = await db.read(selectors.waiting_order_and_pace)
                await self._tell(order, accepted, watched)
            except Exception as exc:
                # The database or the channel layer away: try again in a second (or at the
                # next change, whichever comes first), so that places are not left stale
                # when the queue then stays still. A database outage is logged once, by
                # haven.core.db; anything else here is worth its traceback.
                if not outage.is_database_error(exc):
                    logger.warning("Could not tell waiting visitors their places", exc_info=True)
                asyncio.get_running_loop().call_later(RETRY_SECONDS, self.dirty.set)
                continue

    async def _tell(self, order: list[str], accepted: int, watched: bool) -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        waiting = {conversation: place for place, conversation in enumerate(order, start=1)}
        for conversation in list(self.sockets):
            place = waiting.get(conversation)
            # Not in the order: accepted or ended (its socket hears that from the
            # conversation itself and stops being watched), or started after the order was
            # read (its watch asked for another reading).
            if place is None:
                continue
            told = (place, waits.estimate_minutes(place, accepted), watched)
            if self.places.get(conversation) == told:
                continue
            event: QueuePositionEvent = {
                "type": "queue_position",
                "conversation": conversation,
                "position": place,
                "estimate_minutes": told[1],
                "watched": watched,
            }
            for channel in list(self.sockets.get(conversation, ())):
                await layer.send(channel, group_message(event))
            # Only once told: after a failed send the next reading tells it again.
            if conversation in self.sockets:
                self.places[conversation] = told

    async def _heartbeat(self) -> None:
        """Say which waiting visitors are connected here: at once for those just bound
        (a visitor who comes back keeps their place), and every heartbeat for all."""
        beat = settings.HAVEN_PRESENCE_HEARTBEAT_SECONDS
        waited = 0.0
        while True:
            await asyncio.sleep(1.0)
            waited += 1.0
            if waited >= beat:
                waited = 0.0
                present = {uuid.UUID(c) for c in self.sockets} | self.fresh
                # The hour's pace slides on, and consoles come and go, even while the queue
                # stands still: read them again, and tell those whose figures changed.
                if self.sockets:
                    self.dirty.set()
            else:
                present = set(self.fresh)
            self.fresh.clear()
            if not present:
                continue
            try:
                await db.write(
                    services.conversations_visitor_present, conversation_ids=list(present)
                )
            except Exception as exc:  # the next heartbeat tries again
                if not outage.is_database_error(exc):  # (an outage is logged once, by db)
                    logger.warning("Could not record which visitors are connected", exc_info=True)


_keepers: dict[int, tuple[asyncio.AbstractEventLoop, Keeper]] = {}


def keeper() -> Keeper:
    """This event loop's keeper (precondition: called on the loop)."""
    loop = asyncio.get_running_loop()
    found = _keepers.get(id(loop))
    if found is None or found[0] is not loop:
        for key in [k for k, (other, _) in _keepers.items() if other.is_closed()]:
            del _keepers[key]
        found = _keepers[id(loop)] = (loop, Keeper())
    return found[1]
