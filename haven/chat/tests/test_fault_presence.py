"""Closed tabs leave the queue also when the worker that held them was killed: presence is
in the database, and the other worker finds the visitors nobody holds any more. A visitor
who comes back in time, to the other worker, keeps their place.

Two workers on two loopback addresses, with a PostgreSQL and a Redis of the test's own; the
absence is shortened to a few seconds by environment (120 s by default)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
import websockets

from haven.chat.tests.browser.support import ServerProcess, server_environment
from haven.chat.tests.faults import Reader, ThrowawayPostgres, ThrowawayRedis, workers_on

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(240)]

HOSTS = ("127.0.0.2", "127.0.0.3")
ABSENCE = 4


def _statuses(url: str) -> dict[str, tuple[str, str]]:
    import psycopg

    with psycopg.connect(url, connect_timeout=5) as conn:
        rows = conn.execute("SELECT id, status, ended_by FROM chat_conversation").fetchall()
    return {str(pk): (str(status), str(ended_by)) for pk, status, ended_by in rows}


async def test_a_killed_workers_waiting_visitors_leave_unless_they_come_back(
    tmp_path: Path,
) -> None:
    postgres, redis = ThrowawayPostgres(), ThrowawayRedis()
    workers: list[ServerProcess] = []
    try:
        postgres.start()
        redis.start()
        env = server_environment(tmp_path / "data", postgres.url, redis.url)
        env["HAVEN_ALLOWED_HOSTS"] = ",".join((*HOSTS, "localhost"))
        env["HAVEN_QUEUE_ABSENCE_SECONDS"] = str(ABSENCE)
        env["HAVEN_PRESENCE_HEARTBEAT_SECONDS"] = "1"
        workers = workers_on(HOSTS, folder=tmp_path, env=env)
        doomed, survivor = workers
        doomed.manage("migrate", "--noinput")
        for worker in workers:
            worker.start(timeout=30)

        async def visitor_on(worker: ServerProcess) -> tuple[Reader, dict]:  # type: ignore[type-arg]
            reader = Reader(
                await websockets.connect(
                    f"ws://{worker.host}:{worker.port}/ws/visitor/", origin=worker.base_url
                )
            )
            await reader.ws.send(json.dumps({"type": "start"}))
            return reader, await reader.first("welcome")

        gone, gone_welcome = await visitor_on(doomed)  # closes the tab with the worker
        back, back_welcome = await visitor_on(doomed)  # comes back to the other worker
        assert (gone_welcome["position"], back_welcome["position"]) == (1, 2)
        await asyncio.sleep(1.5)  # both seen present by a heartbeat

        assert doomed.process is not None
        doomed.process.kill()  # SIGKILL: its memory of who is connected dies with it
        doomed.process.wait(timeout=10)
        killed = time.monotonic()
        await asyncio.gather(gone.task, back.task)

        returned = Reader(
            await websockets.connect(
                f"ws://{survivor.host}:{survivor.port}/ws/visitor/", origin=survivor.base_url
            )
        )
        await returned.ws.send(
            json.dumps({"type": "resume", "token": back_welcome["token"], "last_seq": 0})
        )
        again = await returned.first("welcome")
        assert again["status"] == "waiting" and again["position"] == 2

        # The other worker ends the one nobody holds, within the absence and two beats.
        deadline = killed + ABSENCE + 10
        statuses = _statuses(postgres.url)
        while time.monotonic() < deadline:
            statuses = _statuses(postgres.url)
            if statuses[gone_welcome["conversation"]][0] == "ended":
                break
            await asyncio.sleep(0.5)
        assert statuses[gone_welcome["conversation"]] == ("ended", "system")
        # The one who came back is still waiting, now first in line, and told so.
        assert statuses[back_welcome["conversation"]] == ("waiting", "")
        place = await returned.first("queue_position", timeout=10)
        assert place["position"] == 1
        await asyncio.sleep(ABSENCE + 1)
        assert _statuses(postgres.url)[back_welcome["conversation"]] == ("waiting", "")
        await returned.ws.close()
    finally:
        for worker in workers:
            worker.stop()
        redis.close()
        postgres.close()
