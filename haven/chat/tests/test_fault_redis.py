"""Redis restarted mid-conversation, under two real ``haven serve`` processes on two
loopback addresses (as two machines would be) sharing a Redis and a PostgreSQL of the test's
own, the visitor on one and the counsellor on the other, so that every live event between
them has to cross Redis: visitors stay connected and can still connect, live delivery comes
back by itself, and every message acknowledged meanwhile reaches the other side within
seconds of Redis returning, without waiting for a later message."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
import websockets

from haven.chat.tests.browser.support import ServerProcess, server_environment
from haven.chat.tests.faults import (
    Reader,
    ThrowawayPostgres,
    ThrowawayRedis,
    accepted_conversation,
    counsellor_cookie,
    eventually,
    health_becomes,
    workers_on,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(240)]

HOSTS = ("127.0.0.2", "127.0.0.3")
REDIS_AWAY_SECONDS = 3.0
# After Redis is back, how soon what was acknowledged meanwhile must have arrived.
CATCH_UP_SECONDS = 10.0


async def test_redis_restarted_mid_conversation(tmp_path: Path) -> None:
    """Redis away for a few seconds between two workers: nothing dropped, lost or doubled."""
    postgres, redis = ThrowawayPostgres(), ThrowawayRedis()
    workers: list[ServerProcess] = []
    try:
        postgres.start()
        redis.start()
        env = server_environment(tmp_path / "data", postgres.url, redis.url)
        env["HAVEN_ALLOWED_HOSTS"] = ",".join((*HOSTS, "localhost"))
        workers = workers_on(HOSTS, folder=tmp_path, env=env)
        visitor_worker, console_worker = workers
        visitor_worker.manage("migrate", "--noinput")
        for worker in workers:
            worker.start(timeout=30)
        cookie = await counsellor_cookie(console_worker)
        base = f"ws://{visitor_worker.host}:{visitor_worker.port}/ws"
        visitor, console, conversation = await accepted_conversation(
            base,
            visitor_worker.base_url,
            cookie,
            console_ws_base=f"ws://{console_worker.host}:{console_worker.port}/ws",
            console_origin=console_worker.base_url,
        )
        # Each socket is on the worker it was sent to: every event between them crosses Redis.
        assert "/ws/console/" not in visitor_worker.log_text()
        assert "/ws/visitor/" not in console_worker.log_text()

        async def say(who: str, client_id: str) -> None:
            if who == "visitor":
                await visitor.ws.send(
                    json.dumps({"type": "send", "client_id": client_id, "text": client_id})
                )
            else:
                await console.ws.send(
                    json.dumps(
                        {
                            "type": "send",
                            "conversation": conversation,
                            "client_id": client_id,
                            "text": client_id,
                        }
                    )
                )

        await say("visitor", "v-before")
        await say("counsellor", "c-before")
        assert await eventually(lambda: "v-before" in console.texts("visitor"), 10)
        assert await eventually(lambda: "c-before" in visitor.texts("counsellor"), 10)

        logs_before = [len(worker.log_text()) for worker in workers]
        redis.stop()
        for worker in workers:
            assert await health_becomes(worker.base_url, 503, 8), "healthz missed Redis away"
        # Messages are stored and acknowledged meanwhile (the database is there) ...
        await say("visitor", "v-during")
        await say("counsellor", "c-during")
        assert await eventually(
            lambda: "v-during" in visitor.acked() and "c-during" in console.acked(), 10
        ), "not acknowledged while Redis was away"
        # ... and a new visitor can still connect and start a chat.
        newcomer = Reader(
            await websockets.connect(f"{base}/visitor/", origin=visitor_worker.base_url)
        )
        await newcomer.ws.send(json.dumps({"type": "start"}))
        assert (await newcomer.first("welcome", timeout=15))["status"] == "waiting"
        assert not visitor.task.done() and not console.task.done(), "a socket was dropped"

        await asyncio.sleep(REDIS_AWAY_SECONDS)
        redis.start()
        back = time.monotonic()
        # Without anyone writing again, what was acknowledged meanwhile arrives.
        assert await eventually(
            lambda: (
                "v-during" in console.texts("visitor") and "c-during" in visitor.texts("counsellor")
            ),
            CATCH_UP_SECONDS,
        ), "a message acknowledged while Redis was away never reached the other side"
        caught_up = time.monotonic() - back
        # And live delivery works again.
        await say("visitor", "v-after")
        await say("counsellor", "c-after")
        assert await eventually(lambda: "v-after" in console.texts("visitor"), 10)
        assert await eventually(lambda: "c-after" in visitor.texts("counsellor"), 10)
        for worker in workers:
            assert await health_becomes(worker.base_url, 200, 10)

        for side, sender in ((console, "visitor"), (visitor, "counsellor")):
            ids = [
                m["client_id"]
                for f in side.frames
                if f["type"] == "message"
                for m in [f["message"]]
                if m["sender"] == sender
            ]
            assert len(ids) == len(set(ids)), f"a {sender} message was delivered twice"
        for reader in (visitor, console, newcomer):
            await reader.ws.close()
        for worker, before in zip(workers, logs_before, strict=True):
            log = worker.log_text()[before:]
            assert "Traceback" not in log, log
        assert caught_up < CATCH_UP_SECONDS
    finally:
        for worker in workers:
            worker.stop()
        redis.close()
        postgres.close()
