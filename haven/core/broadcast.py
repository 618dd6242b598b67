"""Group events from services to the channel layer, after commit, without making anyone wait.

Services call :func:`publish` from ``transaction.on_commit`` callbacks. In Haven's database
threads (:mod:`haven.core.db`), which are bound to the event loop that handed them the work,
``publish`` only puts the event on that loop's dispatcher and returns: the writer thread
never waits for the channel layer (or for Redis behind it). The dispatcher sends the events
in the order they were published, so the events of one write arrive in order.

Anywhere else (a management command, an HTTP view, a test calling a service directly) it
sends at once and waits, as a plain ``async_to_sync`` call would.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from haven.core import outage

logger = logging.getLogger(__name__)

_bound = threading.local()


@contextmanager
def bound_to(loop: asyncio.AbstractEventLoop | None) -> Iterator[None]:
    """While inside, :func:`publish` in this thread hands events to ``loop``."""
    previous = getattr(_bound, "loop", None)
    _bound.loop = loop
    try:
        yield
    finally:
        _bound.loop = previous


def current_loop() -> asyncio.AbstractEventLoop | None:
    return getattr(_bound, "loop", None)


def publish(group: str, message: dict[str, Any], *, loop: Any = None) -> None:
    """Send ``message`` to ``group``. Precondition: called from a thread, not from the
    event loop itself (async code awaits the layer directly)."""
    loop = loop or current_loop()
    if loop is not None:
        # A closed loop (a test ended, the server stopped) has nobody left to tell.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_dispatcher(loop).put, group, message)
        return
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, message)


# While the channel layer is away: the first pause before sending again, the longest, and
# how many events wait at most (about a minute of a busy evening's events).
RETRY_FIRST_SECONDS = 0.25
RETRY_MAX_SECONDS = 2.0
MAX_WAITING = 100_000


class _Dispatcher:
    """Per event loop: sends published events one after another, in order."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pending: deque[tuple[str, dict[str, Any]]] = deque()
        self.draining = False
        self.failures = 0

    def put(self, group: str, message: dict[str, Any]) -> None:
        self.pending.append((group, message))
        if not self.draining:
            self.draining = True
            self.loop.create_task(self._drain())

    async def _drain(self) -> None:
        try:
            layer = get_channel_layer()
            pause = RETRY_FIRST_SECONDS
            while self.pending:
                # Everything published so far, in one go where the layer can (one round
                # trip to Redis for all of them), else one by one.
                items = list(self.pending)
                self.pending.clear()
                if layer is None:
                    continue
                try:
                    if hasattr(layer, "group_send_many"):
                        await layer.group_send_many(items)
                    else:
                        for group, message in items:
                            await layer.group_send(group, message)
                except Exception as exc:
                    # The writes are stored; their live events wait, in order, and go as
                    # soon as the layer answers again (so that a message acknowledged while
                    # Redis was away reaches the other side without waiting for a later
                    # one). Logged once per outage.
                    outage.channel_layer.failed(exc)
                    self.pending.extendleft(reversed(items))
                    self._bound()
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, RETRY_MAX_SECONDS)
                else:
                    outage.channel_layer.recovered()
                    pause = RETRY_FIRST_SECONDS
        finally:
            self.draining = False

    def _bound(self) -> None:
        """Keep at most MAX_WAITING events: past that, the oldest go (the messages are
        stored; clients catch up by their sequence numbers when they resume)."""
        excess = len(self.pending) - MAX_WAITING
        if excess > 0:
            for _ in range(excess):
                self.pending.popleft()
            self.failures += excess
            logger.warning(
                "%d live events dropped while the channel layer was away (%d so far); the "
                "messages are stored and clients catch up when they resume.",
                excess,
                self.failures,
            )


_dispatchers: dict[int, _Dispatcher] = {}


def _dispatcher(loop: asyncio.AbstractEventLoop) -> _Dispatcher:
    """Precondition: called on ``loop``'s thread."""
    found = _dispatchers.get(id(loop))
    if found is None or found.loop is not loop:
        for key in [k for k, d in _dispatchers.items() if d.loop.is_closed()]:
            del _dispatchers[key]
        found = _dispatchers[id(loop)] = _Dispatcher(loop)
    return found
