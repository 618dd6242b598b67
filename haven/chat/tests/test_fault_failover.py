"""docs/deployment.md's PostgreSQL without a single point of failure, and its backups, run
as written there against clusters of the test's own (never the machine's):

- a streaming standby made with ``pg_basebackup -R``, made synchronous on the primary
  (``synchronous_standby_names``), so that a message is on both machines before it is
  acknowledged (and, while the standby is away, not acknowledged until it is back);
- ``DATABASE_URL`` naming both machines with ``target_session_attrs=read-write``, so that
  the workers find the new primary by themselves after a failover;
- the primary killed mid-conversation and the standby promoted (``pg_ctl promote``):
  every message acknowledged before is there, what was written meanwhile is stored once it
  is promoted (the visitor sends again when told to), and nothing is stored twice;
- a nightly ``pg_dump --format=custom``, restored with ``pg_restore`` into a new database:
  Haven reads the messages back with the same keys, and the dump holds no message text.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import websockets

from haven.chat.tests.browser.support import (
    ServerProcess,
    free_port,
    haven_command,
    server_environment,
)
from haven.chat.tests.faults import HOST, ThrowawayPostgres, postgres_bin, wait_for

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(300)]

# Seconds from the primary's end to the standby's promotion.
FAILOVER_AFTER = 8.0
# Haven's messages in the throwaway clusters' database.
STORED = "SELECT client_id FROM chat_message WHERE client_id <> '' ORDER BY seq"


class Visitor:
    """A visitor's socket that keeps every message until it is acknowledged and sends it
    again when told to (``try_again``) or after reconnecting, as the page does."""

    def __init__(self, url: str, origin: str) -> None:
        self.url, self.origin = url, origin
        self.outbox: dict[str, str] = {}
        self.acked: dict[str, int] = {}
        self.frames: list[dict[str, Any]] = []
        self.token = ""
        self.ws: Any = None

    async def connect(self) -> None:
        self.ws = await websockets.connect(self.url, origin=self.origin)  # type: ignore[arg-type]
        if self.token:
            last = max(self.acked.values(), default=0)
            await self.ws.send(
                json.dumps({"type": "resume", "token": self.token, "last_seq": last})
            )
        else:
            await self.ws.send(json.dumps({"type": "start"}))
        for client_id, text in list(self.outbox.items()):
            await self.ws.send(json.dumps({"type": "send", "client_id": client_id, "text": text}))

    async def write(self, client_id: str) -> None:
        self.outbox[client_id] = f"bericht {client_id}"
        frame = {"type": "send", "client_id": client_id, "text": self.outbox[client_id]}
        with contextlib.suppress(websockets.ConnectionClosed):  # it stays in the outbox
            await self.ws.send(json.dumps(frame))

    async def read_until(self, done: Any, timeout: float) -> bool:
        """Read (reconnecting and sending again as needed) until ``done()`` or time is up."""
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            try:
                raw = await asyncio.wait_for(self.ws.recv(), timeout=0.5)
            except TimeoutError:
                continue
            except websockets.ConnectionClosed:
                await asyncio.sleep(0.5)
                with contextlib.suppress(OSError):
                    await self.connect()
                continue
            frame = json.loads(raw)
            self.frames.append(frame)
            if frame["type"] == "welcome":
                self.token = frame["token"]
            elif frame["type"] == "ack":
                self.outbox.pop(frame["client_id"], None)
                self.acked[frame["client_id"]] = frame["seq"]
            elif frame["type"] == "error" and frame.get("code") == "try_again":
                await asyncio.sleep(frame.get("retry_after", 1))
                client_id = frame["client_id"]
                if client_id in self.outbox:
                    await self.write(client_id)
        return bool(done())


async def test_failover_to_the_synchronous_standby_and_restore_from_a_dump(
    tmp_path: Path,
) -> None:
    """Primary gone, standby promoted: nothing acknowledged is lost, Haven goes on without
    a change of configuration, and last night's dump restores readable with the keys."""
    primary = ThrowawayPostgres()
    standby: ThrowawayPostgres | None = None
    server: ServerProcess | None = None
    try:
        primary.start()
        standby = ThrowawayPostgres(standby_of=primary)
        standby.start()
        # As the guide says, once the standby streams: make it synchronous.
        primary.query("ALTER SYSTEM SET synchronous_standby_names = 'haven_standby'")
        primary.query("SELECT pg_reload_conf()")
        assert wait_for(
            lambda: primary.query("SELECT sync_state FROM pg_stat_replication") == [("sync",)],
            15,
        ), primary.query("SELECT application_name, state, sync_state FROM pg_stat_replication")

        # Both machines in DATABASE_URL; only the one that takes writes is used. (Here two
        # ports on one address; on two machines, two addresses and the default port.)
        database_url = (
            f"postgres://postgres@{HOST},{HOST}/postgres?port={primary.port},{standby.port}"
            "&target_session_attrs=read-write&connect_timeout=3"
        )
        env = server_environment(tmp_path / "data", database_url, None)
        server = ServerProcess(
            data_dir=tmp_path / "data", log_path=tmp_path / "server.log", env=env, port=free_port()
        )
        server.manage("migrate", "--noinput")
        server.start(timeout=30)
        visitor = Visitor(f"ws://{server.host}:{server.port}/ws/visitor/?lang=nl", server.base_url)
        await visitor.connect()
        for n in range(5):
            await visitor.write(f"voor-{n}")
        assert await visitor.read_until(lambda: len(visitor.acked) == 5, 15), visitor.frames
        # Synchronous: each acknowledged message is on the standby already.
        on_standby = [row[0] for row in standby.query(STORED)]
        assert on_standby == [f"voor-{n}" for n in range(5)]

        # Last night's backup, as the guide takes it.
        dump = tmp_path / "haven.dump"
        _client(
            "pg_dump", "--format=custom", "-h", HOST, "-p", str(primary.port),
            "-U", "postgres", "-f", str(dump), "postgres",
        )  # fmt: skip

        # The standby's machine is away for a while: the primary commits nothing without
        # it, so nothing is acknowledged (the page keeps the message), until it is back.
        standby.stop()
        await visitor.write("wacht")
        await visitor.read_until(lambda: False, 3)
        assert "wacht" not in visitor.acked, "acknowledged while on one machine only"
        standby.start()
        assert await visitor.read_until(lambda: "wacht" in visitor.acked, 30), visitor.frames[-5:]

        # The primary's machine is gone; messages written now wait, then the standby is
        # promoted and Haven finds it by itself.
        primary.stop()
        for n in range(3):
            await visitor.write(f"tijdens-{n}")
        # The operator takes a few seconds to fail over; meanwhile nothing is acknowledged
        # and the visitor is told to send again.
        await visitor.read_until(lambda: False, FAILOVER_AFTER)
        assert not any(c.startswith("tijdens") for c in visitor.acked), "acked while no primary"
        assert any(f.get("code") == "try_again" for f in visitor.frames), visitor.frames[-5:]
        standby.promote()
        promoted = time.monotonic()
        # As the guide says, at once on the new primary (a no-op here: this standby was
        # made before the primary had the setting).
        standby.query("ALTER SYSTEM RESET synchronous_standby_names")
        standby.query("SELECT pg_reload_conf()")
        assert standby.query("SHOW synchronous_standby_names") == [("",)]
        assert await visitor.read_until(lambda: not visitor.outbox, 40), visitor.frames[-10:]
        took = time.monotonic() - promoted
        await visitor.write("na")
        assert await visitor.read_until(lambda: "na" in visitor.acked, 15)
        await visitor.ws.close()

        stored = [row[0] for row in standby.query(STORED)]
        expected = [
            *(f"voor-{n}" for n in range(5)),
            "wacht",
            *(f"tijdens-{n}" for n in range(3)),
            "na",
        ]
        assert sorted(stored) == sorted(expected), stored  # nothing lost
        assert len(stored) == len(set(stored))  # nothing twice
        assert {visitor.acked[c] for c in expected} == set(range(1, len(expected) + 1))
        assert took < 30
        log = server.log_text()
        assert "Traceback" not in log, log

        # Restore the dump into a new database, as the guide does, and read it with Haven.
        _client("createdb", "-h", HOST, "-p", str(standby.port), "-U", "postgres", "haven_restored")
        _client(
            "pg_restore", "-h", HOST, "-p", str(standby.port), "-U", "postgres",
            "--dbname", "haven_restored", str(dump),
        )  # fmt: skip
        assert b"bericht voor" not in dump.read_bytes(), "message text in the backup"
        restored_env = {
            **env,
            "DATABASE_URL": f"postgres://postgres@{HOST}:{standby.port}/haven_restored",
        }
        read_back = subprocess.run(
            [
                *haven_command(), "shell", "-c",
                "from haven.chat.models import Message; "
                "print(sorted(m.text for m in Message.objects.exclude(client_id='')))",
            ],
            env=restored_env, capture_output=True, text=True, timeout=90, check=True,
        )  # fmt: skip
        # (Django's shell says first how many models it imported.)
        assert read_back.stdout.strip().splitlines()[-1] == repr(
            [f"bericht voor-{n}" for n in range(5)]
        )
    finally:
        if server is not None:
            server.stop()
        if standby is not None:
            standby.close()
        primary.close()


def _client(program: str, *args: str) -> None:
    """One of PostgreSQL's client programs (over TCP, as the user ``postgres``)."""
    binary = postgres_bin(program)
    assert binary is not None
    result = subprocess.run([binary, *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{program}: {result.stdout}{result.stderr}"
