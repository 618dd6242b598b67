"""PostgreSQL away for ten seconds, in the middle of a conversation, against a real
``haven serve`` and a throwaway cluster of the test's own (never the machine's).

Nothing is acknowledged that is not stored; the visitor is told with an error frame that
the message waits and is asked to send it again; the outage is one log line (and its end
one more), with no traceback; ``/healthz`` says unhealthy while the database is away; and
the server recovers by itself."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import websockets

from haven.chat.tests.browser.support import ServerProcess, free_port, server_environment
from haven.chat.tests.faults import ThrowawayPostgres, health_becomes

pytestmark = pytest.mark.asyncio

OUTAGE_SECONDS = 10.0


async def _until(
    ws: Any, wanted: Callable[[dict[str, Any]], bool], timeout: float, seen: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """The first frame for which ``wanted`` is true within ``timeout`` s; every frame read
    is kept in ``seen``."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=left))
        except TimeoutError:
            return None
        seen.append(frame)
        if wanted(frame):
            return frame
    return None


def _is(kind: str, client_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f["type"] == kind and f.get("client_id") == client_id


def _answer_to(client_id: str) -> Callable[[dict[str, Any]], bool]:
    """An ack or an error for the message ``client_id``."""
    return lambda f: f.get("client_id") == client_id and f["type"] in {"ack", "error"}


def _stored(url: str) -> list[tuple[int, str, str]]:
    import psycopg

    with psycopg.connect(url, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT seq, sender, client_id FROM chat_message ORDER BY conversation_id, seq"
        ).fetchall()
    return [(int(seq), str(sender), str(client_id)) for seq, sender, client_id in rows]


async def test_postgres_away_for_ten_seconds_loses_nothing_and_says_so(tmp_path: Path) -> None:
    """As the issue measures it: ten seconds without PostgreSQL while a visitor writes."""
    postgres = ThrowawayPostgres()
    server = ServerProcess(
        data_dir=tmp_path / "data",
        log_path=tmp_path / "server.log",
        env=server_environment(tmp_path / "data", postgres.url, None),
        port=free_port(),
    )
    try:
        postgres.start()
        server.manage("migrate", "--noinput")
        server.start(timeout=30)
        url = f"ws://{server.host}:{server.port}/ws/visitor/?lang=nl"
        seen: list[dict[str, Any]] = []
        async with websockets.connect(url, origin=server.base_url) as ws:  # type: ignore[arg-type]
            await ws.send(json.dumps({"type": "start"}))
            assert await _until(ws, lambda f: f["type"] == "history", 10, seen)
            await ws.send(json.dumps({"type": "send", "client_id": "before", "text": "een"}))
            assert (await _until(ws, _is("ack", "before"), 10, seen) or {}).get("seq") == 1

            log_before = len(server.log_text())
            postgres.stop()
            stopped = time.monotonic()
            assert await health_becomes(server.base_url, 503, 8), "healthz kept saying ok"

            await ws.send(json.dumps({"type": "send", "client_id": "during", "text": "twee"}))
            answer = await _until(ws, _answer_to("during"), 15, seen)
            assert answer is not None, "no answer while the database was away"
            assert (answer["type"], answer["code"]) == ("error", "try_again")
            assert answer["retry_after"] > 0 and answer["message"]

            await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
            postgres.start()
            # As the page does: send it again after each retry_after, until it is stored.
            ack = None
            deadline = time.monotonic() + 30
            while ack is None and time.monotonic() < deadline:
                await ws.send(json.dumps({"type": "send", "client_id": "during", "text": "twee"}))
                reply = await _until(ws, _answer_to("during"), 15, seen)
                if reply is not None and reply["type"] == "ack":
                    ack = reply
                elif reply is not None:
                    await asyncio.sleep(reply.get("retry_after", 1))
            assert ack is not None, "the server did not recover by itself"
            assert ack["seq"] == 2
            await ws.send(json.dumps({"type": "send", "client_id": "after", "text": "drie"}))
            assert (await _until(ws, _is("ack", "after"), 10, seen) or {}).get("seq") == 3
        assert await health_becomes(server.base_url, 200, 10)

        # Nothing acknowledged that was not stored, nothing stored twice.
        acked = [(f["seq"], f["client_id"]) for f in seen if f["type"] == "ack"]
        assert acked == [(1, "before"), (2, "during"), (3, "after")]
        assert _stored(postgres.url) == [
            (1, "visitor", "before"),
            (2, "visitor", "during"),
            (3, "visitor", "after"),
        ]
        log = server.log_text()[log_before:]
        assert log.count("The database cannot be reached") == 1, log
        assert log.count("The database is back after") == 1, log
        assert "Traceback" not in log, log
        assert "Exception in ASGI application" not in log, log
    finally:
        server.stop()
        postgres.close()
