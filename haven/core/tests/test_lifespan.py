"""Each worker's background tasks start and stop with it (haven.core.lifespan)."""

from __future__ import annotations

import asyncio
import gc

from haven.core.lifespan import GC_THRESHOLDS, Lifespan, every


async def test_tasks_run_while_the_worker_serves_and_stop_with_it() -> None:
    """Startup starts every task (and settles the garbage collector); shutdown cancels them
    and answers; other scopes go to the app."""
    ran: list[str] = []
    stopped = asyncio.Event()

    async def task() -> None:
        try:
            while True:
                ran.append("tick")
                await asyncio.sleep(0.01)
        finally:
            stopped.set()

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        ran.append(scope["type"])

    lifespan = Lifespan(app, tasks=[task])
    inbox: asyncio.Queue[dict] = asyncio.Queue()
    sent: list[str] = []

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message["type"])

    serving = asyncio.create_task(lifespan({"type": "lifespan"}, inbox.get, send))
    await inbox.put({"type": "lifespan.startup"})
    await asyncio.sleep(0.05)
    await lifespan({"type": "http"}, inbox.get, send)
    await inbox.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(serving, 5)
    assert stopped.is_set()
    assert "tick" in ran and "http" in ran
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert gc.get_threshold() == GC_THRESHOLDS and gc.get_freeze_count() > 0
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)


async def test_a_failing_step_is_tried_again_and_logged_once(caplog) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []

    async def step() -> None:
        calls.append(1)
        if len(calls) < 4:
            raise ConnectionError("away")

    task = asyncio.create_task(every(lambda: 0.01, step, "Testing")())
    await asyncio.sleep(0.2)
    task.cancel()
    assert len(calls) >= 5
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("Testing failed: ConnectionError (tried again every turn)") == 1
    assert "Testing works again" in messages
