"""Services that fault tests start, stop and start again themselves, never the machine's.

:class:`ThrowawayPostgres` is a PostgreSQL cluster made with ``initdb`` in a temporary
folder, on a free port, run with ``pg_ctl``. As root (CI here), the cluster belongs to the
``postgres`` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from haven.chat.tests.browser.support import free_port
from haven.conftest import skip_or_fail

HOST = "127.0.0.1"


def postgres_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / name).exists():
            return str(folder / name)
    return None


class ThrowawayPostgres:
    """Precondition: call :meth:`close` (it stops the cluster and removes its folder).

    ``standby_of``: instead of a new cluster, a copy of that running one made with
    ``pg_basebackup -R`` (a streaming standby, as docs/deployment.md sets one up), which
    names itself ``haven_standby`` to its primary."""

    def __init__(self, standby_of: ThrowawayPostgres | None = None) -> None:
        initdb, pg_ctl = postgres_bin("initdb"), postgres_bin("pg_ctl")
        if initdb is None or pg_ctl is None:
            skip_or_fail("initdb and pg_ctl (PostgreSQL's server package) are not installed")
        assert initdb is not None and pg_ctl is not None
        self.initdb, self.pg_ctl = initdb, pg_ctl
        # Its own folder under the system's temporary one (pytest's are private to the user
        # running the tests, which the postgres user could not enter).
        self.folder = Path(tempfile.mkdtemp(prefix="haven-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self.port = free_port(HOST)
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
        if self.as_user:
            shutil.chown(self.folder, user="postgres")
        self.options = ""
        if standby_of is None:
            self._run(self.initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres")
        else:
            basebackup = postgres_bin("pg_basebackup")
            assert basebackup is not None  # in the same package as initdb
            self._run(
                basebackup, "-h", HOST, "-p", str(standby_of.port), "-U", "postgres",
                "-D", str(self.data), "-R", "-X", "stream", "--checkpoint=fast",
            )  # fmt: skip
            # The name under which the primary's synchronous_standby_names knows it.
            self.options = "-c cluster_name=haven_standby"

    @property
    def url(self) -> str:
        return f"postgres://postgres@{HOST}:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [*self.as_user, *args], capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {result.stdout}{result.stderr}")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses={HOST} -k {self.folder} -c fsync=on"
        options += f" {self.options}"
        self._run(
            self.pg_ctl, "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
        )

    def stop(self) -> None:
        """Stop at once (``-m immediate``: as if the machine's database had gone away)."""
        self._run(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def promote(self) -> None:
        """A standby becomes a primary (``pg_ctl promote``), as an operator fails over."""
        self._run(self.pg_ctl, "-D", str(self.data), "-w", "promote")

    def query(self, sql: str, dbname: str = "postgres") -> list[tuple[Any, ...]]:
        import psycopg

        url = f"postgres://postgres@{HOST}:{self.port}/{dbname}"
        with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
            cursor = conn.execute(sql.encode())
            return cursor.fetchall() if cursor.description else []

    def close(self) -> None:
        subprocess.run(
            [*self.as_user, self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


def wait_for(condition, timeout: float, step: float = 0.2):  # type: ignore[no-untyped-def]
    """``condition()``'s first true value within ``timeout`` seconds, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return None


class ThrowawayRedis:
    """``redis-server`` on a free port, keeping nothing on disk. Precondition: call
    :meth:`close`."""

    def __init__(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            skip_or_fail("redis-server is not installed")
        assert server is not None
        self.server = server
        self.port = free_port(HOST)
        self.folder = Path(tempfile.mkdtemp(prefix="haven-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                self.server,
                "--port",
                str(self.port),
                "--bind",
                HOST,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        import redis

        client = redis.Redis(host=HOST, port=self.port, socket_connect_timeout=1)
        if not wait_for(lambda: _pings(client), 10):
            raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def _pings(client) -> bool:  # type: ignore[no-untyped-def]
    try:
        return bool(client.ping())
    except Exception:
        return False


# --- Haven processes and clients, as the fault tests use them --------------------------------


def workers_on(hosts: tuple[str, ...], *, folder: Path, env: dict[str, str]) -> list[Any]:
    """One ``haven serve`` per address (as one per machine), not started yet. They share one
    data folder, so one secret key and one encryption key, as machines of one deployment
    share them."""
    from haven.chat.tests.browser.support import ServerProcess

    workers = []
    for n, host in enumerate(hosts):
        worker = ServerProcess(
            data_dir=folder / "data",
            log_path=folder / f"worker-{n}.log",
            env=env,
            port=free_port(host),
        )
        worker.host = host
        workers.append(worker)
    return workers


async def counsellor_cookie(worker: Any, name: str = "anna") -> str:
    """A counsellor made with ``haven createstaff`` and signed in the real way (password,
    then the authenticator's code) on ``worker``: the console socket's session cookie,
    good on every worker (sessions are in the database)."""
    from haven.chat.tests.test_bench import load_bench

    password = secrets.token_urlsafe(18)
    worker.manage("createstaff", name, "--role", "counsellor", "--password-stdin", stdin=password)
    bench = load_bench()
    bench.HOST = worker.host
    return str(await asyncio.to_thread(bench.sign_in, worker.port, name, password))


class Reader:
    """A socket of the test, every frame it receives kept in ``frames``."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        import websockets

        try:
            async for raw in self.ws:
                self.frames.append(json.loads(raw))
        except websockets.ConnectionClosed:
            pass

    def texts(self, sender: str) -> set[str]:
        found = set()
        for frame in self.frames:
            messages = [frame["message"]] if frame["type"] == "message" else []
            if frame["type"] == "history":
                messages = frame["messages"]
            found |= {m["client_id"] for m in messages if m["sender"] == sender}
        return found

    async def first(self, kind: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            for frame in self.frames[seen:]:
                if frame["type"] == kind:
                    return frame
            seen = len(self.frames)
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {kind} frame; got {[f['type'] for f in self.frames]}")

    def acked(self) -> dict[str, int]:
        return {f["client_id"]: f["seq"] for f in self.frames if f["type"] == "ack"}


async def accepted_conversation(
    ws_base: str,
    origin: str,
    cookie: str,
    *,
    console_ws_base: str | None = None,
    console_origin: str | None = None,
    **connect: Any,
) -> tuple[Reader, Reader, str]:
    """A visitor starts a chat and a counsellor accepts and opens it, as console.js does:
    the visitor's and the console's sockets, and the conversation. The console connects to
    ``console_ws_base`` when given (another worker), else to ``ws_base``."""
    import websockets

    visitor = Reader(await websockets.connect(f"{ws_base}/visitor/", origin=origin, **connect))
    await visitor.ws.send(json.dumps({"type": "start"}))
    conversation = (await visitor.first("welcome"))["conversation"]
    console = Reader(
        await websockets.connect(
            f"{console_ws_base or ws_base}/console/",
            origin=console_origin or origin,
            additional_headers={"Cookie": f"sessionid={cookie}"},
            **connect,
        )
    )
    await console.first("hello")
    await console.ws.send(json.dumps({"type": "accept", "conversation": conversation}))
    await console.first("assigned")
    await console.ws.send(json.dumps({"type": "open", "conversation": conversation, "last_seq": 0}))
    await console.first("history")
    return visitor, console, conversation


async def eventually(condition: Callable[[], Any], timeout: float) -> bool:
    """Whether ``condition()`` becomes true within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.1)
    return False


def status_of(url: str, context: Any = None) -> int:
    """The HTTP status of a GET of ``url`` (0 when nothing answers); ``context`` for TLS."""
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    try:
        with opener.open(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


async def health_becomes(base_url: str, status: int, timeout: float, context: Any = None) -> bool:
    """Whether ``/healthz`` answers ``status`` within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await asyncio.to_thread(status_of, f"{base_url}/healthz", context) == status:
            return True
        await asyncio.sleep(0.3)
    return False
