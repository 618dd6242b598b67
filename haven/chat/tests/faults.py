"""Services that fault tests start, stop and start again themselves, never the machine's.

:class:`ThrowawayPostgres` is a PostgreSQL cluster made with ``initdb`` in a temporary
folder, on a free port, run with ``pg_ctl``. As root (CI here), the cluster belongs to the
``postgres`` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from haven.chat.tests.browser.support import free_port
from haven.conftest import skip_or_fail

HOST = "127.0.0.1"


def _postgres_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / name).exists():
            return str(folder / name)
    return None


class ThrowawayPostgres:
    """Precondition: call :meth:`close` (it stops the cluster and removes its folder)."""

    def __init__(self) -> None:
        initdb, pg_ctl = _postgres_bin("initdb"), _postgres_bin("pg_ctl")
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
        self._run(self.initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres")

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
        self._run(
            self.pg_ctl, "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
        )

    def stop(self) -> None:
        """Stop at once (``-m immediate``: as if the machine's database had gone away)."""
        self._run(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")

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
