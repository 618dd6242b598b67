#!/usr/bin/env python3
"""Haven's chat under load, beside a bare ``websockets`` relay in the same run.

A load generator (asyncio and ``websockets``) plays visitors and counsellors through Haven's
documented protocol (docs/protocol.md): visitors start conversations, counsellors sign in
the real way (password, then a code from the authenticator secret shown at enrolment) and
accept them, and both sides exchange messages at a set rate. The same load runs against a
bare relay (this file, ``relay`` subcommand) that answers with the same message shapes and
stores nothing, so Haven's figures can be read as ratios to what this machine does at all.

    .venv/bin/python bench/chat_load.py                      # steady load, embedded + production
    .venv/bin/python bench/chat_load.py --scenario all       # steady, saturation, surge, idle
    .venv/bin/python bench/chat_load.py --mode embedded --conversations 50 --duration 5

Scenarios:

* ``steady``: N conversations, each side sending one message every ``--interval`` seconds
  for ``--duration`` seconds. Delivered messages per second, delivery latency (sent by one
  side until it arrives at the other) p50/p95/p99/max, acknowledgement latency, messages
  lost (acknowledged but never delivered) or duplicated, connection errors.
* ``saturation``: ``--pairs`` conversations, each side keeping ``--inflight`` messages on
  their way (sent, not yet arrived at the other side): messages per second.
* ``surge``: ``--waiting`` visitors in the queue, ``--consoles`` consoles open, every visitor
  writing every 5 s while waiting. First writing only (the cost of one waiting visitor's
  message: server CPU and frames sent per message, at the full queue and at a tenth of it),
  then writing while counsellors accept from the head: how long until every console's queue
  and every visitor's position are current again.
* ``idle``: ``--idle`` visitor sockets connected at ``--connect-rate`` per second to one
  worker, held: memory per connection and the connection rate reached.

Modes: ``embedded`` (SQLite, in-memory channel layer, one worker) and ``production``
(PostgreSQL and Redis, ``--workers`` workers; its own database ``haven_bench`` and Redis
database 15, both emptied first). Abuse limits are raised by environment variables, as an
operator would; nothing in Haven knows it is being measured.

The figures printed are what this machine did in this run: it is shared and noisy, so
compare ratios to the relay of the same run, and read the load average printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import functools
import hmac
import http.client
import json
import os
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

# Abuse limits and flood control, raised for the load (every simulated visitor comes from
# this one address, and a benchmark console holds far more conversations than a person).
RAISED_LIMITS = {
    "HAVEN_STARTS_PER_SOURCE_PER_HOUR": "100000000",
    "HAVEN_MESSAGES_PER_SOURCE_PER_MINUTE": "100000000",
    "HAVEN_MESSAGES_PER_CONVERSATION_PER_MINUTE": "100000000",
    "HAVEN_RATE_BURST": "100000",
    "HAVEN_RATE_PER_SECOND": "100000",
    "HAVEN_CONSOLE_RATE_BURST": "100000",
    "HAVEN_CONSOLE_RATE_PER_SECOND": "100000",
}


# --- processes: start, stop, CPU and memory ---------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (from /proc)."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children[parent].append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def cpu_seconds(pids: Iterable[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return total / CLOCK_TICKS


def rss_bytes(pids: Iterable[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * PAGE_SIZE
        except (OSError, IndexError, ValueError):
            continue
    return total


class Server:
    """A server in a subprocess (its own process group), with its log in a file."""

    def __init__(
        self, name: str, command: list[str], env: dict[str, str], port: int, log: Path
    ) -> None:
        self.name, self.command, self.env, self.port, self.log_path = (
            name,
            command,
            env,
            port,
            log,
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.peak_rss = 0

    def start(self, ready_path: str = "/healthz", timeout: float = 90) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=ROOT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.log_path.read_text(errors="replace").splitlines()[-15:]
                raise RuntimeError(f"{self.name} exited:\n" + "\n".join(tail))
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", ready_path)
                if conn.getresponse().status == 200:
                    conn.close()
                    time.sleep(0.5)  # let every worker of a multi-process server come up
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer within {timeout} s; see {self.log_path}")

    def pids(self) -> list[int]:
        return descendants(self.process.pid) if self.process else []

    def workers(self) -> list[int]:
        """The processes that serve (for uvicorn with workers: the children)."""
        pids = self.pids()
        return pids[1:] if len(pids) > 1 else pids

    def cpu(self) -> float:
        return cpu_seconds(self.pids())

    def rss(self) -> int:
        value = rss_bytes(self.pids())
        self.peak_rss = max(self.peak_rss, value)
        return value

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


# --- signing in the real way -----------------------------------------------------------------


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238 with django-otp's defaults (30 s steps, 6 digits, SHA-1)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), "sha1").digest()
    offset = digest[-1] & 0x0F
    value = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{value:06d}"


class Browserless:
    """Just enough of a browser for the sign-in pages: cookies by hand (they are Secure in
    production mode, and this speaks plain HTTP on loopback), no automatic redirects."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        headers = {"Origin": f"http://{HOST}:{self.port}", "Host": f"{HOST}:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            from urllib.parse import urlencode

            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                cookie = value.split(";", 1)[0]
                key, _, val = cookie.partition("=")
                self.cookies[key.strip()] = val.strip()
        conn.close()
        return response.status, response.getheader("Location") or "", text

    @staticmethod
    def csrf(page: str) -> str:
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if not match:
            raise RuntimeError("no CSRF token on the page")
        return match.group(1)


def sign_in(port: int, username: str, password: str) -> str:
    """Password, then the second step (enrolling the authenticator on the first sign-in, as
    a new counsellor would). Returns the session cookie for the console socket."""
    browser = Browserless(port)
    _, _, page = browser.request("GET", "/console/login/")
    status, _, page = browser.request(
        "POST",
        "/console/login/",
        {"username": username, "password": password, "csrfmiddlewaretoken": browser.csrf(page)},
    )
    if status != 302:
        raise RuntimeError(f"sign-in of {username} failed ({status})")
    status, _, page = browser.request("GET", "/console/two-factor/setup/")
    match = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', page)
    if status != 200 or not match:
        raise RuntimeError(f"no authenticator secret for {username} ({status})")
    secret = match.group(1).replace(" ", "")
    status, _, _ = browser.request(
        "POST",
        "/console/two-factor/setup/",
        {"token": totp(secret), "csrfmiddlewaretoken": browser.csrf(page)},
    )
    if status != 200 or "sessionid" not in browser.cookies:
        raise RuntimeError(f"second step for {username} failed ({status})")
    return browser.cookies["sessionid"]


# --- Haven and the relay ----------------------------------------------------------------------


def haven_bin() -> str:
    script = Path(sys.executable).with_name("haven")
    return str(script) if script.exists() else "haven"


def base_environment() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HAVEN_") and k not in {"DATABASE_URL", "REDIS_URL"}
    }
    env.update(RAISED_LIMITS)
    env.update(
        {
            "HAVEN_LOG_LEVEL": "WARNING",
            "HAVEN_ALLOWED_HOSTS": f"{HOST},localhost",
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "haven.settings",
        }
    )
    return env


@dataclass
class Target:
    """What the load generator talks to."""

    kind: str  # "haven" | "relay"
    label: str
    server: Server
    cookies: list[str] = field(default_factory=list)  # one console session each
    # With --nginx: the TLS port of docs/deployment.md's nginx in front, and its process.
    front: int | None = None
    proxy: subprocess.Popen[bytes] | None = None

    @property
    def origin(self) -> str:
        if self.front is not None:
            return f"https://{HOST}:{self.front}"
        return f"http://{HOST}:{self.server.port}"

    def url(self, role: str) -> str:
        if self.front is not None:
            return f"wss://{HOST}:{self.front}/ws/{role}/?lang=nl"
        return f"ws://{HOST}:{self.server.port}/ws/{role}/?lang=nl"

    def stop(self) -> None:
        if self.proxy is not None and self.proxy.poll() is None:
            self.proxy.terminate()
            self.proxy.wait(timeout=15)
        self.server.stop()


def behind_nginx(target: Target, workdir: Path) -> Target:
    """``target`` behind docs/deployment.md's nginx configuration, as written there (both
    upstream lines pointing at the one ``haven serve --workers N``), over TLS with a
    certificate made for the run. The clients then talk to nginx only."""
    sys.path.insert(0, str(ROOT))
    from haven.chat.tests.nginx import documented_config, localised, start_nginx

    folder = workdir / f"nginx-{target.server.port}"
    folder.mkdir()
    https = free_port()
    upstream = f"{HOST}:{target.server.port}"
    site = localised(
        documented_config(),
        upstreams=[upstream, upstream],
        http=free_port(),
        https=https,
        folder=folder,
    )
    target.proxy = start_nginx(folder, site, connections=30000)
    target.front = https
    target.label += " via nginx"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPSConnection(HOST, https, timeout=2, context=_insecure_tls())
            conn.request("GET", "/")  # the probes are not passed from outside
            if conn.getresponse().status == 200:
                return target
        except OSError:
            pass
        time.sleep(0.2)
    target.stop()
    raise RuntimeError(f"nginx did not answer; see {folder}")


def _insecure_tls() -> Any:
    """For the run's own certificate, on loopback (precondition: behind_nginx ran)."""
    from haven.chat.tests.nginx import insecure_tls

    return insecure_tls()


def prepare_haven(
    mode: str,
    workdir: Path,
    *,
    workers: int,
    counsellors: int,
    database_url: str,
    redis_url: str,
    extra_env: dict[str, str],
) -> Target:
    env = base_environment()
    env["HAVEN_DATA_DIR"] = str(workdir / f"data-{mode}")
    if mode == "production":
        import psycopg
        import redis
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        dbname = conninfo_to_dict(database_url).get("dbname") or "haven_bench"
        admin = make_conninfo(database_url, dbname="postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{dbname}"')
        redis.Redis.from_url(redis_url).flushdb()
        from cryptography.fernet import Fernet

        env.update(
            {
                "HAVEN_MODE": "production",
                "HAVEN_SECRET_KEY": secrets.token_urlsafe(50),
                "HAVEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                "HAVEN_SSL_REDIRECT": "0",
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
            }
        )
    env.update(extra_env)
    subprocess.run([haven_bin(), "migrate", "--noinput", "-v", "0"], env=env, check=True, cwd=ROOT)
    accounts = [(f"bench{i}", secrets.token_urlsafe(18)) for i in range(counsellors)]
    # Through the command an operator uses, four at a time.
    for first in range(0, len(accounts), 4):
        batch = []
        for name, password in accounts[first : first + 4]:
            proc = subprocess.Popen(
                [haven_bin(), "createstaff", name, "--role", "counsellor", "--password-stdin"],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                cwd=ROOT,
            )
            assert proc.stdin is not None
            proc.stdin.write(password.encode() + b"\n")
            proc.stdin.close()
            batch.append((name, proc))
        for name, proc in batch:
            if proc.wait():
                raise RuntimeError(f"createstaff {name} failed")
    port = free_port()
    command = [haven_bin(), "serve", "--host", HOST, "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    server = Server(f"haven-{mode}", command, env, port, workdir / f"haven-{mode}.log")
    server.start()
    from concurrent.futures import ThreadPoolExecutor

    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        cookies = list(pool.map(lambda account: sign_in(port, *account), accounts))
    note(f"  {len(cookies)} counsellors signed in ({time.monotonic() - started:.1f} s)")
    label = "embedded" if mode == "embedded" else f"production ({workers} workers)"
    return Target("haven", label, server, cookies)


def prepare_relay(workdir: Path) -> Target:
    port = free_port()
    command = [sys.executable, str(Path(__file__).resolve()), "relay", "--port", str(port)]
    server = Server("relay", command, dict(os.environ), port, workdir / "relay.log")
    server.start(ready_path="/healthz")
    return Target("relay", "bare relay", server)


async def relay_main(port: int) -> None:
    """A relay with Haven's message shapes: start/welcome, accept/assigned, send/ack and a
    ``message`` to both sides. It keeps conversations in a dict and stores nothing."""
    from websockets.asyncio.server import serve
    from websockets.http11 import Response

    conversations: dict[str, dict[str, Any]] = {}
    waiting: dict[str, None] = {}

    def health(connection: Any, request: Any) -> Response | None:
        if request.path == "/healthz":
            return connection.respond(200, "ok\n")
        return None

    async def handler(ws: Any) -> None:
        console = ws.request.path.startswith("/ws/console/")
        mine: dict[str, Any] | None = None
        if console:
            await ws.send(json.dumps({"type": "hello", "queue": [], "conversations": []}))
        async for raw in ws:
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "start" and not console:
                cid = str(uuid.uuid4())
                mine = {"visitor": ws, "counsellor": None, "seq": 0}
                conversations[cid] = mine
                waiting[cid] = None
                await ws.send(
                    json.dumps(
                        {
                            "type": "welcome",
                            "conversation": cid,
                            "status": "waiting",
                            "last_seq": 0,
                            "token": secrets.token_urlsafe(32),
                            "position": len(waiting),
                        }
                    )
                )
                await ws.send(
                    json.dumps(
                        {
                            "type": "history",
                            "conversation": cid,
                            "status": "waiting",
                            "messages": [],
                        }
                    )
                )
                mine["id"] = cid
            elif kind == "accept" and console:
                conv = conversations.get(frame["conversation"])
                if conv is None:
                    continue
                conv["counsellor"] = ws
                waiting.pop(frame["conversation"], None)
                await ws.send(
                    json.dumps(
                        {
                            "type": "assigned",
                            "conversation": {
                                "conversation": frame["conversation"],
                                "status": "active",
                                "last_seq": conv["seq"],
                                "unread": 0,
                            },
                        }
                    )
                )
            elif kind == "send":
                cid = frame["conversation"] if console else (mine or {}).get("id")
                conv = conversations.get(cid or "")
                if conv is None:
                    continue
                conv["seq"] += 1
                payload = {
                    "seq": conv["seq"],
                    "sender": "counsellor" if console else "visitor",
                    "kind": "text",
                    "text": frame["text"],
                    "client_id": frame["client_id"],
                    "sent_at": "",
                }
                await ws.send(
                    json.dumps(
                        {
                            "type": "ack",
                            "conversation": cid,
                            "client_id": frame["client_id"],
                            "seq": conv["seq"],
                        }
                    )
                )
                event = json.dumps({"type": "message", "conversation": cid, "message": payload})
                for peer in (conv["visitor"], conv["counsellor"]):
                    if peer is not None:
                        with contextlib.suppress(Exception):
                            await peer.send(event)
            elif kind == "end" and mine is not None:
                conversations.pop(mine["id"], None)
                waiting.pop(mine["id"], None)

    async with serve(
        handler,
        HOST,
        port,
        process_request=health,
        compression=None,
        max_size=256 * 1024,
        backlog=4096,
    ):
        await asyncio.Future()


# --- the load generator -----------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class Recorder:
    """Every message sent, acknowledged and delivered in one scenario."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.acked: dict[str, float] = {}
        self.delivered: dict[str, float] = {}
        self.seqs: dict[str, int] = {}  # client_id -> seq (from the ack or the delivery)
        self.delivery_latency: list[float] = []
        self.ack_latency: list[float] = []
        self.duplicates = 0
        self.reordered_ids = 0  # a client_id stored under two numbers
        self.errors: Counter[str] = Counter()
        self.connection_errors = 0
        self.on_delivery: Callable[[str], None] | None = None

    def send(self, client_id: str) -> None:
        self.sent[client_id] = time.perf_counter()

    def ack(self, client_id: str, seq: int) -> None:
        now = time.perf_counter()
        if client_id in self.sent and client_id not in self.acked:
            self.acked[client_id] = now
            self.ack_latency.append(now - self.sent[client_id])
        self._seq(client_id, seq)

    def deliver(self, client_id: str, seq: int) -> None:
        now = time.perf_counter()
        if client_id in self.delivered:
            self.duplicates += 1
            return
        self.delivered[client_id] = now
        if client_id in self.sent:
            self.delivery_latency.append(now - self.sent[client_id])
        self._seq(client_id, seq)
        if self.on_delivery is not None:
            self.on_delivery(client_id)

    def _seq(self, client_id: str, seq: int) -> None:
        known = self.seqs.setdefault(client_id, seq)
        if known != seq:
            self.reordered_ids += 1

    def outstanding(self) -> int:
        return sum(1 for c in self.sent if c not in self.delivered or c not in self.acked)

    def summary(self, window: float, start: float, end: float) -> dict[str, Any]:
        in_window = sum(1 for t in self.delivered.values() if start <= t <= end)
        lat = self.delivery_latency
        return {
            "sent": len(self.sent),
            "acked": len(self.acked),
            "delivered": len(self.delivered),
            "delivered_per_s": in_window / window if window else 0.0,
            "lost": sum(1 for c in self.acked if c not in self.delivered),
            "unacked": sum(1 for c in self.sent if c not in self.acked),
            "duplicates": self.duplicates + self.reordered_ids,
            "p50_ms": percentile(lat, 50) * 1000,
            "p95_ms": percentile(lat, 95) * 1000,
            "p99_ms": percentile(lat, 99) * 1000,
            "max_ms": max(lat) * 1000 if lat else float("nan"),
            "ack_p50_ms": percentile(self.ack_latency, 50) * 1000,
            "ack_p99_ms": percentile(self.ack_latency, 99) * 1000,
            "errors": dict(self.errors),
            "connection_errors": self.connection_errors,
        }


class Client:
    """One WebSocket of the load: a visitor or a console."""

    role = ""

    def __init__(self, target: Target, recorder: Recorder, cookie: str | None = None) -> None:
        self.target, self.recorder, self.cookie = target, recorder, cookie
        self.ws: Any = None
        self.reader: asyncio.Task[None] | None = None
        self.closed = False
        self.frames: Counter[str] = Counter()
        self.seen: dict[str, set[int]] = defaultdict(set)  # conversation -> numbers delivered

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        headers = {"Cookie": f"sessionid={self.cookie}"} if self.cookie else None
        try:
            self.ws = await connect(
                self.target.url(self.role),
                origin=self.target.origin,  # type: ignore[arg-type]
                additional_headers=headers,
                ssl=_insecure_tls() if self.target.front is not None else None,
                compression=None,
                open_timeout=120,
                ping_interval=None,
                max_size=2**22,
                max_queue=None,
            )
        except Exception:
            self.recorder.connection_errors += 1
            raise
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                frame = json.loads(raw)
                self.frames[frame["type"]] += 1
                self.on_frame(frame)
        except Exception:
            if not self.closed:
                self.recorder.connection_errors += 1
        finally:
            if not self.closed:
                self.recorder.errors["closed by server"] += 1

    def on_frame(self, frame: dict[str, Any]) -> None:
        raise NotImplementedError

    def _message(self, conversation: str, message: dict[str, Any], other: str) -> None:
        seq = message["seq"]
        if seq in self.seen[conversation]:
            self.recorder.duplicates += 1
            return
        self.seen[conversation].add(seq)
        if message["sender"] == other and message["client_id"]:
            self.recorder.deliver(message["client_id"], seq)

    def _error(self, frame: dict[str, Any]) -> None:
        self.recorder.errors[frame.get("code", "?")] += 1

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def close(self) -> None:
        self.closed = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(BaseException):
                await self.reader


class Visitor(Client):
    role = "visitor"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conversation = ""
        self.position: int | None = None
        self.welcomed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.on_position: Callable[[Visitor, int], None] | None = None
        self.counter = 0

    async def start(self) -> None:
        await self.send({"type": "start"})
        await asyncio.wait_for(asyncio.shield(self.welcomed), 120)

    async def write(self, text: str = "Testbericht") -> str:
        self.counter += 1
        client_id = f"v{self.conversation[:8]}-{self.counter}-{secrets.token_hex(3)}"
        self.recorder.send(client_id)
        await self.send({"type": "send", "client_id": client_id, "text": f"{text} {self.counter}"})
        return client_id

    def on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "welcome":
            self.conversation = frame["conversation"]
            self.position = frame.get("position")
            if not self.welcomed.done():
                self.welcomed.set_result(None)
        elif kind == "message":
            self._message(frame["conversation"], frame["message"], "counsellor")
        elif kind == "ack":
            self.recorder.ack(frame["client_id"], frame["seq"])
        elif kind == "queue_position":
            self.position = frame["position"]
            if self.on_position is not None:
                self.on_position(self, frame["position"])
        elif kind == "error":
            self._error(frame)


class Console(Client):
    role = "console"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hello: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.assigned: dict[str, asyncio.Future[None]] = {}
        self.queue: dict[str, dict[str, Any]] = {}
        self.on_queue: Callable[[Console, str | None], None] | None = None
        self.counter = 0

    async def connect(self) -> None:
        await super().connect()
        await asyncio.wait_for(asyncio.shield(self.hello), 120)

    async def accept(self, conversation: str) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self.assigned[conversation] = waiter
        await self.send({"type": "accept", "conversation": conversation})
        await asyncio.wait_for(waiter, 120)

    async def write(self, conversation: str, text: str = "Antwoord") -> str:
        self.counter += 1
        client_id = f"c{conversation[:8]}-{self.counter}-{secrets.token_hex(3)}"
        self.recorder.send(client_id)
        await self.send(
            {
                "type": "send",
                "conversation": conversation,
                "client_id": client_id,
                "text": f"{text} {self.counter}",
            }
        )
        return client_id

    def ordered_queue(self) -> list[str]:
        return [
            c
            for c, _ in sorted(
                self.queue.items(), key=lambda item: (item[1]["waiting_since"], item[0])
            )
        ]

    def on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "hello":
            self.queue = {e["conversation"]: e for e in frame["queue"]}
            if not self.hello.done():
                self.hello.set_result(None)
        elif kind == "queue":  # the whole queue (before deltas)
            self.queue = {e["conversation"]: e for e in frame["waiting"]}
            if self.on_queue is not None:
                self.on_queue(self, None)
        elif kind == "queue_entry":
            entry = frame["entry"]
            self.queue[entry["conversation"]] = entry
            if self.on_queue is not None:
                self.on_queue(self, entry["conversation"])
        elif kind == "queue_leave":
            self.queue.pop(frame["conversation"], None)
            if self.on_queue is not None:
                self.on_queue(self, frame["conversation"])
        elif kind == "assigned":
            cid = frame["conversation"]["conversation"]
            waiter = self.assigned.pop(cid, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        elif kind == "message":
            self._message(frame["conversation"], frame["message"], "visitor")
        elif kind == "ack":
            self.recorder.ack(frame["client_id"], frame["seq"])
        elif kind == "error":
            self._error(frame)
            waiter = self.assigned.pop(frame.get("conversation", ""), None)
            if waiter is not None and not waiter.done():
                waiter.set_exception(RuntimeError(frame.get("message", "error")))


async def gather_limited(
    factories: Iterable[Callable[[], Awaitable[Any]]], limit: int, rate: float | None = None
) -> list[Any]:
    """Run the coroutines with at most ``limit`` at once (and at most ``rate`` started per
    second); exceptions are returned, not raised."""
    semaphore = asyncio.Semaphore(limit)
    started = time.perf_counter()

    async def one(index: int, factory: Callable[[], Awaitable[Any]]) -> Any:
        if rate:
            delay = started + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        async with semaphore:
            return await factory()

    return await asyncio.gather(
        *(one(i, f) for i, f in enumerate(factories)), return_exceptions=True
    )


def failures(results: list[Any]) -> list[BaseException]:
    return [r for r in results if isinstance(r, BaseException)]


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Measure:
    """Server CPU and memory over a window (sampled every 0.25 s)."""

    def __init__(self, server: Server, label: str = "", seconds: float = 0.0) -> None:
        self.server = server
        self.task: asyncio.Task[None] | None = None
        # With --profile, py-spy watches the window (``seconds`` long) of each scenario.
        self.label, self.seconds = label, seconds
        self.spies: list[subprocess.Popen[bytes]] = []

    async def __aenter__(self) -> Measure:
        self.pids = self.server.pids()
        self.cpu0 = cpu_seconds(self.pids)
        self.own0 = _own_cpu()
        self.rss0 = rss_bytes(self.pids)
        self.peak = self.rss0
        self.t0 = time.perf_counter()
        self.load0 = os.getloadavg()[0]
        self.task = asyncio.create_task(self._sample())
        if self.label:
            self.spies = profile(self.server, self.label, self.seconds)
        return self

    async def _sample(self) -> None:
        while True:
            await asyncio.sleep(0.25)
            self.peak = max(self.peak, rss_bytes(self.pids))

    async def __aexit__(self, *exc: Any) -> None:
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.elapsed = time.perf_counter() - self.t0
        self.cpu = cpu_seconds(self.pids) - self.cpu0
        self.own = _own_cpu() - self.own0
        self.peak = max(self.peak, rss_bytes(self.pids))
        self.load1 = os.getloadavg()[0]
        for spy in self.spies:
            await asyncio.to_thread(spy.wait)

    def figures(self) -> dict[str, Any]:
        return {
            "server_cpu_percent": 100 * self.cpu / self.elapsed if self.elapsed else 0.0,
            "load_generator_cpu_percent": 100 * self.own / self.elapsed if self.elapsed else 0.0,
            "server_peak_mb": self.peak / 2**20,
            "load_average": [round(self.load0, 2), round(self.load1, 2)],
        }


async def open_conversations(
    target: Target, recorder: Recorder, count: int, consoles: int
) -> tuple[list[Visitor], list[Console], dict[str, Console], float]:
    """``count`` visitors start and ``consoles`` counsellors accept them, round robin."""
    started = time.perf_counter()
    cookies = target.cookies or [None] * consoles  # type: ignore[list-item]
    desks = [Console(target, recorder, cookies[i % len(cookies)]) for i in range(consoles)]
    errors = failures(await gather_limited([d.connect for d in desks], 20))
    if errors:
        raise RuntimeError(f"consoles could not connect: {errors[0]!r}")
    visitors = [Visitor(target, recorder) for _ in range(count)]

    async def begin(visitor: Visitor) -> None:
        await visitor.connect()
        await visitor.start()

    errors = failures(await gather_limited([lambda v=v: begin(v) for v in visitors], 100))
    if errors:
        raise RuntimeError(f"{len(errors)} visitors could not start: {errors[0]!r}")
    holder: dict[str, Console] = {}

    async def take(index: int, visitor: Visitor) -> None:
        desk = desks[index % consoles]
        await desk.accept(visitor.conversation)
        holder[visitor.conversation] = desk

    errors = failures(
        await gather_limited([lambda i=i, v=v: take(i, v) for i, v in enumerate(visitors)], 50)
    )
    if errors:
        raise RuntimeError(f"{len(errors)} accepts failed: {errors[0]!r}")
    return visitors, desks, holder, time.perf_counter() - started


async def close_all(clients: Iterable[Client], end: bool = True) -> None:
    clients = list(clients)
    if end:
        for client in clients:
            if isinstance(client, Visitor) and client.ws is not None and client.conversation:
                with contextlib.suppress(Exception):
                    await client.send({"type": "end"})
        await asyncio.sleep(0.5)
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


async def drain(recorder: Recorder, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while recorder.outstanding() and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)


async def scenario_steady(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    """Both sides of every conversation write every ``interval`` seconds."""
    recorder = Recorder()
    visitors, desks, holder, setup = await open_conversations(
        target, recorder, args.conversations, args.counsellors_for_load
    )
    stop = time.perf_counter() + args.duration

    async def talk(send: Callable[[], Awaitable[Any]]) -> None:
        await asyncio.sleep(random.uniform(0, args.interval))
        while time.perf_counter() < stop:
            began = time.perf_counter()
            await send()
            await asyncio.sleep(max(0.0, args.interval - (time.perf_counter() - began)))

    tasks = []
    for visitor in visitors:
        tasks.append(talk(visitor.write))
        desk = holder[visitor.conversation]
        tasks.append(talk(lambda d=desk, c=visitor.conversation: d.write(c)))
    async with Measure(target.server, profile_label(target, "steady"), args.duration) as measure:
        start = time.perf_counter()
        await asyncio.gather(*tasks)
        end = time.perf_counter()
        await drain(recorder, args.drain)
    result = recorder.summary(end - start, start, end)
    result.update(measure.figures())
    result["setup_s"] = setup
    result["offered_per_s"] = 2 * args.conversations / args.interval
    await close_all([*visitors, *desks])
    return result


async def scenario_saturation(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    """Each side keeps ``inflight`` messages on their way: how many get through a second."""
    recorder = Recorder()
    visitors, desks, holder, setup = await open_conversations(
        target, recorder, args.pairs, min(args.pairs, args.counsellors_for_load)
    )
    stop = time.perf_counter() + args.duration
    waiters: dict[str, asyncio.Event] = {}

    def delivered(client_id: str) -> None:
        event = waiters.pop(client_id, None)
        if event is not None:
            event.set()

    recorder.on_delivery = delivered

    async def pump(send: Callable[[], Awaitable[str]]) -> None:
        while time.perf_counter() < stop:
            event = asyncio.Event()
            client_id = await send()
            waiters[client_id] = event
            if client_id in recorder.delivered:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), 30)

    tasks = []
    for visitor in visitors:
        desk = holder[visitor.conversation]
        for _ in range(args.inflight):
            tasks.append(pump(visitor.write))
            tasks.append(pump(lambda d=desk, c=visitor.conversation: d.write(c)))
    async with Measure(
        target.server, profile_label(target, "saturation"), args.duration
    ) as measure:
        start = time.perf_counter()
        await asyncio.gather(*tasks)
        end = time.perf_counter()
        await drain(recorder, args.drain)
    result = recorder.summary(end - start, start, end)
    result.update(measure.figures())
    result["setup_s"] = setup
    await close_all([*visitors, *desks])
    return result


def profile_label(target: Target, scenario: str) -> str:
    return f"{target.kind}-{target.label.split()[0]}-{scenario}"


class Staleness:
    """How long after a change every console's queue and every visitor's position showed it."""

    def __init__(self) -> None:
        self.console_waits: dict[tuple[int, str], tuple[float, int]] = {}
        self.position_waits: dict[int, tuple[float, int]] = {}
        self.console_latency: list[float] = []
        self.position_latency: list[float] = []

    def expect_console(self, desks: list[Console], conversation: str, count: int) -> None:
        """Every console must show ``conversation`` with ``count`` messages (-1: gone)."""
        now = time.perf_counter()
        for desk in desks:
            if self._console_ok(desk, conversation, count):
                self.console_latency.append(0.0)
            else:
                self.console_waits[(id(desk), conversation)] = (now, count)

    @staticmethod
    def _console_ok(desk: Console, conversation: str, count: int) -> bool:
        entry = desk.queue.get(conversation)
        if count < 0:
            return entry is None
        return entry is not None and entry["message_count"] >= count

    def console_changed(self, desk: Console, conversation: str | None) -> None:
        keys = (
            [k for k in self.console_waits if k[0] == id(desk)]
            if conversation is None
            else [(id(desk), conversation)]
        )
        for key in keys:
            wait = self.console_waits.get(key)
            if wait is not None and self._console_ok(desk, key[1], wait[1]):
                self.console_latency.append(time.perf_counter() - wait[0])
                del self.console_waits[key]

    def expect_position(self, visitor: Visitor, position: int) -> None:
        if visitor.position == position:
            self.position_latency.append(0.0)
            self.position_waits.pop(id(visitor), None)
        else:
            self.position_waits[id(visitor)] = (time.perf_counter(), position)

    def position_changed(self, visitor: Visitor, position: int) -> None:
        wait = self.position_waits.get(id(visitor))
        if wait is not None and wait[1] == position:
            self.position_latency.append(time.perf_counter() - wait[0])
            del self.position_waits[id(visitor)]

    def figures(self) -> dict[str, Any]:
        c, p = self.console_latency, self.position_latency
        return {
            "console_updates": len(c),
            "console_p50_ms": percentile(c, 50) * 1000,
            "console_p99_ms": percentile(c, 99) * 1000,
            "console_max_ms": max(c) * 1000 if c else float("nan"),
            "console_never": len(self.console_waits),
            "position_updates": len(p),
            "position_p50_ms": percentile(p, 50) * 1000,
            "position_p99_ms": percentile(p, 99) * 1000,
            "position_max_ms": max(p) * 1000 if p else float("nan"),
            "position_never": len(self.position_waits),
        }


async def scenario_surge(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    """Many visitors waiting and writing, consoles watching the queue."""
    result: dict[str, Any] = {}
    recorder = Recorder()
    cookies = target.cookies or [None] * args.consoles  # type: ignore[list-item]
    desks = [Console(target, recorder, cookies[i % len(cookies)]) for i in range(args.consoles)]
    errors = failures(await gather_limited([d.connect for d in desks], 20))
    if errors:
        raise RuntimeError(f"consoles could not connect: {errors[0]!r}")
    visitors: list[Visitor] = []
    by_conversation: dict[str, Visitor] = {}
    staleness = Staleness()

    async def begin(visitor: Visitor) -> None:
        await visitor.connect()
        await visitor.start()

    async def fill(total: int) -> None:
        new = [Visitor(target, recorder) for _ in range(total - len(visitors))]
        errors = failures(await gather_limited([lambda v=v: begin(v) for v in new], 20))
        if errors:
            raise RuntimeError(f"{len(errors)} visitors could not start: {errors[0]!r}")
        visitors.extend(new)
        by_conversation.update({v.conversation: v for v in new})
        await asyncio.sleep(1.0)

    async def writing(seconds: float, accept_every: float | None) -> dict[str, Any]:
        """Every waiting visitor writes every ``args.surge_interval`` s for ``seconds``;
        with ``accept_every``, a counsellor accepts the head of the queue that often."""
        stop = time.perf_counter() + seconds
        written: Counter[str] = Counter()
        waiting = set(by_conversation)
        frames_before = (
            sum(d.frames["queue"] + d.frames["queue_entry"] for d in desks),
            sum(v.frames["queue_position"] for v in visitors),
        )

        async def write(visitor: Visitor) -> None:
            await asyncio.sleep(random.uniform(0, args.surge_interval))
            while time.perf_counter() < stop and visitor.conversation in waiting:
                began = time.perf_counter()
                client_id = await visitor.write()
                acked = time.perf_counter() + 30
                while client_id not in recorder.acked and time.perf_counter() < acked:
                    await asyncio.sleep(0.01)
                written[visitor.conversation] += 1
                if visitor.conversation in waiting:
                    staleness.expect_console(
                        desks, visitor.conversation, written[visitor.conversation]
                    )
                await asyncio.sleep(max(0.0, args.surge_interval - (time.perf_counter() - began)))

        async def accept_heads() -> None:
            if accept_every is None:
                return
            index = 0
            while time.perf_counter() < stop - 1:
                await asyncio.sleep(accept_every)
                order = [c for c in desks[0].ordered_queue() if c in waiting]
                if not order:
                    continue
                head = order[0]
                desk = desks[index % len(desks)]
                index += 1
                with contextlib.suppress(Exception):
                    await desk.accept(head)
                waiting.discard(head)
                staleness.expect_console(desks, head, -1)
                for position, conversation in enumerate(order[1:], start=1):
                    staleness.expect_position(by_conversation[conversation], position)

        messages_before = len(recorder.acked)
        label = profile_label(
            target, f"surge-{len(waiting)}-{'accepting' if accept_every else 'writing'}"
        )
        async with Measure(target.server, label, seconds) as measure:
            await asyncio.gather(*(write(v) for v in visitors), accept_heads())
        messages = len(recorder.acked) - messages_before
        frames_after = (
            sum(d.frames["queue"] + d.frames["queue_entry"] for d in desks),
            sum(v.frames["queue_position"] for v in visitors),
        )
        figures = measure.figures()
        figures["messages"] = messages
        figures["cpu_ms_per_message"] = 1000 * measure.cpu / messages if messages else 0.0
        figures["console_frames_per_message"] = (
            (frames_after[0] - frames_before[0]) / messages if messages else 0.0
        )
        figures["position_frames_per_message"] = (
            (frames_after[1] - frames_before[1]) / messages if messages else 0.0
        )
        return figures

    for desk in desks:
        desk.on_queue = staleness.console_changed
    small = max(1, args.waiting // 10)
    await fill(small)
    result["small_queue"] = {"waiting": small, **(await writing(args.surge_write, None))}
    started = time.perf_counter()
    await fill(args.waiting)
    result["fill_s"] = time.perf_counter() - started
    recorder.ack_latency.clear()
    result["full_queue"] = {
        "waiting": args.waiting,
        **(await writing(args.surge_write, None)),
        "ack_p50_ms": percentile(recorder.ack_latency, 50) * 1000,
        "ack_p99_ms": percentile(recorder.ack_latency, 99) * 1000,
    }
    staleness = Staleness()
    for desk in desks:
        desk.on_queue = staleness.console_changed
    for visitor in visitors:
        visitor.on_position = staleness.position_changed
    recorder.ack_latency.clear()
    accepting = await writing(args.duration, args.accept_every)
    accepting.update(staleness.figures())
    accepting["ack_p50_ms"] = percentile(recorder.ack_latency, 50) * 1000
    accepting["ack_p99_ms"] = percentile(recorder.ack_latency, 99) * 1000
    result["accepting"] = accepting
    result["errors"] = dict(recorder.errors)
    result["connection_errors"] = recorder.connection_errors
    await close_all([*visitors, *desks])
    return result


async def scenario_idle(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    """Idle visitor sockets on one worker: memory per connection, connections per second."""
    recorder = Recorder()
    sockets = [Visitor(target, recorder) for _ in range(args.idle)]
    pids = target.server.pids()
    gc_settle = 2.0
    await asyncio.sleep(gc_settle)
    before = rss_bytes(pids)
    started = time.perf_counter()
    results = await gather_limited([s.connect for s in sockets], 500, rate=args.connect_rate)
    elapsed = time.perf_counter() - started
    await asyncio.sleep(gc_settle)
    after = rss_bytes(pids)
    ok = len(sockets) - len(failures(results))
    await close_all(sockets, end=False)
    return {
        "connections": ok,
        "failed": len(sockets) - ok,
        "connect_per_s": ok / elapsed if elapsed else 0.0,
        "kb_per_connection": (after - before) / 1024 / ok if ok else float("nan"),
        "server_rss_mb": after / 2**20,
        "load_average": round(os.getloadavg()[0], 2),
    }


SCENARIOS: dict[str, Callable[[Target, argparse.Namespace], Awaitable[dict[str, Any]]]] = {
    "steady": scenario_steady,
    "saturation": scenario_saturation,
    "surge": scenario_surge,
    "idle": scenario_idle,
}


# --- reporting ---------------------------------------------------------------------------------


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items()) or "none"
    return f"{value:,}" if isinstance(value, int) else str(value)


RATIO_KEYS = {
    "steady": "delivered_per_s",
    "saturation": "delivered_per_s",
}


def print_report(results: dict[str, dict[str, dict[str, Any]]], args: argparse.Namespace) -> None:
    print(f"\n# chat_load, {time.strftime('%Y-%m-%d %H:%M %Z')}")
    print(
        f"machine: {os.cpu_count()} cores, {platform_line()}; "
        f"load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    for scenario, by_target in results.items():
        print(f"\n## {scenario}: {scenario_line(scenario, args)}")
        relay = by_target.get("bare relay")
        for label, figures in by_target.items():
            print(f"\n{label}:")
            for key, value in flatten(figures):
                line = f"  {key}: {fmt(value)}"
                base = flat_get(relay, key) if relay is not None and label != "bare relay" else None
                if (
                    isinstance(value, float | int)
                    and isinstance(base, float | int)
                    and base
                    and key.split(".")[-1] in RATIO_TARGETS
                ):
                    line += f"  ({value / base:.3g} x relay)"
                print(line)


RATIO_TARGETS = {"delivered_per_s", "kb_per_connection", "connect_per_s", "p99_ms", "p50_ms"}


def flatten(figures: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in figures.items():
        if isinstance(value, dict) and key not in {"errors"}:
            rows.extend(flatten(value, f"{prefix}{key}."))
        else:
            rows.append((f"{prefix}{key}", value))
    return rows


def flat_get(figures: dict[str, Any] | None, key: str) -> Any:
    for part in key.split("."):
        if not isinstance(figures, dict):
            return None
        figures = figures.get(part)
    return figures


def scenario_line(scenario: str, args: argparse.Namespace) -> str:
    if scenario == "steady":
        return (
            f"{args.conversations} conversations, each side a message every {args.interval} s "
            f"({2 * args.conversations / args.interval:,.0f} a second offered), {args.duration} s"
        )
    if scenario == "saturation":
        return f"{args.pairs} pairs, {args.inflight} in flight per side, {args.duration} s"
    if scenario == "surge":
        return (
            f"{args.waiting} waiting visitors writing every {args.surge_interval} s, "
            f"{args.consoles} consoles; writing {args.surge_write} s at a tenth and at the "
            f"full queue, then {args.duration} s accepting one every {args.accept_every} s"
        )
    return f"{args.idle} idle visitor sockets at {args.connect_rate}/s"


def platform_line() -> str:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model or 'unknown CPU'}, Python {sys.version.split()[0]}"


# --- main ----------------------------------------------------------------------------------------


async def run_scenarios(target: Target, names: list[str], args: argparse.Namespace) -> dict:
    results = {}
    for name in names:
        if name == "idle" and target.kind == "haven" and args.workers_for(target) > 1:
            continue  # held by one worker: measured in embedded mode
        note(f"  {target.label}: {name} …")
        started = time.perf_counter()
        try:
            results[name] = await SCENARIOS[name](target, args)
        except Exception as exc:  # a failed scenario is a figure too
            results[name] = {"failed": repr(exc)}
        note(f"  {target.label}: {name} done in {time.perf_counter() - started:.0f} s")
        await asyncio.sleep(1)
    return results


def raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# Where py-spy writes (``--profile``): set once by main().
PROFILE_DIR: Path | None = None


def profile(server: Server, label: str, seconds: float) -> list[subprocess.Popen[bytes]]:
    """py-spy on every serving process for ``seconds`` (collapsed stacks, a file each)."""
    if PROFILE_DIR is None:
        return []
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        note("  py-spy not found: .venv/bin/pip install py-spy")
        return []
    PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    spies = []
    for index, pid in enumerate(server.workers()):
        output = PROFILE_DIR / f"{label}-{index}.txt"
        spies.append(
            subprocess.Popen(
                [str(spy), "record", "--pid", str(pid), "--duration", str(max(1, int(seconds)))]
                + ["--format", "raw", "--threads", "--nonblocking", "--output", str(output)]
                # BENCH_PY_SPY_GIL=1: only the thread holding the GIL, to see who waits for it
                + (["--gil"] if os.environ.get("BENCH_PY_SPY_GIL") else []),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    return spies


def run(args: argparse.Namespace) -> dict[str, Any]:
    raise_file_limit()
    names = list(SCENARIOS) if args.scenario == "all" else args.scenario.split(",")
    modes = ["embedded", "production"] if args.mode == "both" else [args.mode]
    args.counsellors_for_load = min(args.counsellors, max(1, args.conversations // 50) or 1)
    needed = max(
        args.counsellors_for_load if "steady" in names else 1,
        min(args.counsellors, args.pairs) if "saturation" in names else 1,
        args.consoles if "surge" in names else 1,
    )
    args.workers_for = lambda target: 1 if target.label == "embedded" else args.workers
    results: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    workdir = Path(tempfile.mkdtemp(prefix="haven-bench-"))
    note(f"bench: working in {workdir}")
    targets: list[Callable[[], Target]] = [lambda: prepare_relay(workdir)]
    for mode in modes:
        make = functools.partial(
            prepare_haven,
            mode,
            workdir,
            workers=1 if mode == "embedded" else args.workers,
            counsellors=needed,
            database_url=args.database_url,
            redis_url=args.redis_url,
            extra_env=dict(item.split("=", 1) for item in args.env),
        )
        targets.append(make)
        if args.nginx and mode == "production":
            targets.append(lambda make=make: behind_nginx(make(), workdir))
    try:
        for make in targets:
            note("bench: starting a server …")
            target = make()
            try:
                for name, figures in asyncio.run(run_scenarios(target, names, args)).items():
                    results[name][target.label] = figures
            finally:
                target.stop()
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return results


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    relay = sub.add_parser("relay", help="run the bare relay (used by the benchmark itself)")
    relay.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=["embedded", "production", "both"], default="both")
    parser.add_argument(
        "--scenario",
        default="steady",
        help="steady, saturation, surge, idle, all (or a comma list)",
    )
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument(
        "--interval", type=float, default=2.0, help="seconds between one side's messages"
    )
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--drain", type=float, default=10.0, help="seconds to wait for stragglers")
    parser.add_argument(
        "--counsellors",
        type=int,
        default=20,
        help="at most this many consoles share the conversations",
    )
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--inflight", type=int, default=5)
    parser.add_argument("--waiting", type=int, default=500)
    parser.add_argument("--consoles", type=int, default=20)
    parser.add_argument("--surge-interval", type=float, default=5.0)
    parser.add_argument("--surge-write", type=float, default=20.0)
    parser.add_argument("--accept-every", type=float, default=1.0)
    parser.add_argument("--idle", type=int, default=10000)
    parser.add_argument("--connect-rate", type=float, default=500.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/haven_bench"
        ),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    )
    parser.add_argument(
        "--env", action="append", default=[], help="NAME=VALUE for Haven's environment"
    )
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument(
        "--profile", help="py-spy the serving processes in every measured window, into this folder"
    )
    parser.add_argument("--keep", action="store_true", help="keep the working folder (logs)")
    parser.add_argument(
        "--nginx",
        action="store_true",
        help="production mode also through docs/deployment.md's nginx (TLS), as a third run",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.command == "relay":
        with contextlib.suppress(ImportError):
            import uvloop

            uvloop.install()
        asyncio.run(relay_main(args.port))
        return 0
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    global PROFILE_DIR
    PROFILE_DIR = Path(args.profile) if args.profile else None
    results = run(args)
    print_report(results, args)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
