"""Redis restarted mid-conversation, under a real ``haven serve`` with a Redis and a
PostgreSQL of the test's own: visitors stay connected and can still connect, live delivery
comes back by itself, and every message acknowledged meanwhile reaches the other side within
seconds of Redis returning, without waiting for a later message."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
import websockets

from haven.chat.tests.browser.support import ServerProcess, free_port, server_environment
from haven.chat.tests.faults import (
    Reader,
    ThrowawayPostgres,
    ThrowawayRedis,
    accepted_conversation,
    counsellor_cookie,
    eventually,
    health_becomes,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(240)]

REDIS_AWAY_SECONDS = 3.0
# After Redis is back, how soon what was acknowledged meanwhile must have arrived.
CATCH_UP_SECONDS = 10.0


async def test_redis_restarted_mid_conversation(tmp_path: Path) -> None:
    postgres, redis = ThrowawayPostgres(), ThrowawayRedis()
    env = server_environment(tmp_path / "data", postgres.url, redis.url)
    server = ServerProcess(
        data_dir=tmp_path / "data", log_path=tmp_path / "server.log", env=env, port=free_port()
    )
    try:
        postgres.start()
        redis.start()
        server.manage("migrate", "--noinput")
        server.start(timeout=30)
        cookie = await counsellor_cookie(server)
        base = f"ws://{server.host}:{server.port}/ws"
        visitor, console, conversation = await accepted_conversation(base, server.base_url, cookie)

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

        log_before = len(server.log_text())
        redis.stop()
        assert await health_becomes(server.base_url, 503, 8), "healthz did not notice Redis away"
        # Messages are stored and acknowledged meanwhile (the database is there) ...
        await say("visitor", "v-during")
        await say("counsellor", "c-during")
        assert await eventually(
            lambda: "v-during" in visitor.acked() and "c-during" in console.acked(), 10
        ), "not acknowledged while Redis was away"
        # ... and a new visitor can still connect and start a chat.
        newcomer = Reader(await websockets.connect(f"{base}/visitor/", origin=server.base_url))
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
        assert await health_becomes(server.base_url, 200, 10)

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
        log = server.log_text()[log_before:]
        assert "Traceback" not in log, log
        assert caught_up < CATCH_UP_SECONDS
    finally:
        server.stop()
        redis.close()
        postgres.close()
