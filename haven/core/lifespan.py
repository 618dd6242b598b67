"""The worker's own life: background tasks started with it and stopped with it (ASGI lifespan).

``haven serve`` runs uvicorn with the lifespan protocol on; every worker process then
settles its garbage collector (:func:`settle_garbage_collector`), starts the tasks given
here, each a coroutine function that runs until cancelled, and on shutdown cancels them and
closes the database threads' connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from haven.core import db

logger = logging.getLogger(__name__)

Task = Callable[[], Coroutine[Any, Any, None]]


def every(seconds: Callable[[], float], step: Callable[[], Awaitable[Any]], name: str) -> Task:
    """A task that runs ``step`` every ``seconds()`` seconds; a failing step is logged (once
    per kind of failure in a row) and tried again at the next turn."""

    async def run() -> None:
        failing: str | None = None
        while True:
            await asyncio.sleep(seconds())
            try:
                await step()
            except Exception as exc:  # a background task must keep going
                if failing != type(exc).__name__:
                    failing = type(exc).__name__
                    logger.warning("%s failed: %s (tried again every turn)", name, failing)
            else:
                if failing is not None:
                    logger.warning("%s works again", name)
                failing = None

    return run


# Objects allocated, net, before the collector looks at the youngest generation (Python's
# default is 700), and how many young collections before the next older one (10 and 10).
GC_THRESHOLDS = (10_000, 20, 20)


def settle_garbage_collector() -> None:
    """Before serving: move everything loaded so far (Django, the apps, their modules: about
    175,000 objects, none of them garbage) out of the collector's sight with ``gc.freeze``,
    and let it run less often. Measured under load (docs/performance.md): a full collection
    went from about 250 ms to about 120 ms, the slowest messages from 230 ms to 70 ms.
    Cycles are still collected; there are just fewer, shorter pauses."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class Lifespan:
    """ASGI wrapper: answers the lifespan scope, passes everything else to ``app``."""

    def __init__(self, app: Any, tasks: Sequence[Task]) -> None:
        self.app = app
        self.tasks = tasks

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        running: list[asyncio.Task[None]] = []
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                settle_garbage_collector()
                running = [asyncio.create_task(task()) for task in self.tasks]
                await send({"type": "lifespan.startup.complete"})
                # `haven serve` says where Haven runs once a worker has started.
                announce = os.environ.get("HAVEN_SERVE_ANNOUNCE")
                if announce:
                    print(announce, flush=True)
            elif message["type"] == "lifespan.shutdown":
                for task in running:
                    task.cancel()
                for task in running:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                await asyncio.to_thread(db.stop)
                await send({"type": "lifespan.shutdown.complete"})
                return
