"""The pieces the browser tests share: the server process, and page objects for both roles.

Selectors use element ids, never visible words, so the tests pass in every language. Where
a test needs to compare with a sentence the page shows, it reads that sentence from the
page's own ``haven-config`` (the words the server translated for its script).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from playwright.sync_api import Locator, Page, expect

HOST = "127.0.0.2"
# The visitor's address as the server sees it: the browser connects from 127.0.0.1.
VISITOR_ADDRESS = "127.0.0.1"
NEUTRAL_URL = "https://neutral.example/"
NEUTRAL_PAGE = (
    "<!doctype html><html><head><title>Neutral</title></head>"
    "<body><p>Neutral page</p></body></html>"
)
COUNSELLOR_NAME = "anna"
COUNSELLOR_PASSWORD = "a long test password 42"
E2E_DATABASE = "haven_e2e"

# Playwright's auto-waiting assertions: generous enough for a busy CI machine.
TIMEOUT = 10_000
# After a server restart the browsers reconnect with a back-off of up to 8 s.
RECONNECT_TIMEOUT = 30_000

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


# --- the server ----------------------------------------------------------------------------


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def haven_command() -> list[str]:
    """The ``haven`` console script next to this Python, or ``python -m haven.cli``."""
    script = Path(sys.executable).with_name("haven")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "haven.cli"]


def e2e_database_url(database_url: str) -> str:
    """``database_url`` pointing at the dedicated end-to-end database instead."""
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/" + E2E_DATABASE))


def recreate_postgres_database(database_url: str) -> str:
    """Drop and create ``haven_e2e`` on the server of ``database_url``; return its URL."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    admin = make_conninfo(database_url, dbname="postgres", connect_timeout=5)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {E2E_DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {E2E_DATABASE}")
    return e2e_database_url(database_url)


def server_environment(data_dir: Path, database_url: str | None, redis_url: str | None) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("HAVEN_") and key not in {"DATABASE_URL", "REDIS_URL"}
    }
    env.update(
        {
            "HAVEN_DATA_DIR": str(data_dir),
            "HAVEN_ALLOWED_HOSTS": f"{HOST},localhost",
            "HAVEN_QUICK_EXIT_URL": NEUTRAL_URL,
            "HAVEN_LOG_LEVEL": "DEBUG",
            # Every browser here comes from the same address: the per-source limit on new
            # chats would otherwise stop the suite (it has its own tests).
            "HAVEN_STARTS_PER_SOURCE_PER_HOUR": "10000",
            "DJANGO_SETTINGS_MODULE": "haven.settings",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


class ServerProcess:
    """``haven serve`` in a subprocess, with every line it writes appended to ``log_path``.

    It can be stopped and started again on the same port and data directory, which is how
    a test restarts the server in the middle of a conversation.
    """

    def __init__(self, *, data_dir: Path, log_path: Path, env: dict[str, str], port: int):
        self.data_dir = data_dir
        self.log_path = log_path
        self.env = env
        self.port = port
        self.host = HOST
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def database_url(self) -> str | None:
        return self.env.get("DATABASE_URL")

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "haven.sqlite3"

    def manage(self, *args: str, stdin: str | None = None) -> None:
        """Run a ``haven`` management command with the server's environment."""
        with self.log_path.open("ab") as log:
            log.write(f"$ haven {' '.join(args)}\n".encode())
            log.flush()
            result = subprocess.run(
                [*haven_command(), *args],
                env=self.env,
                input=stdin.encode() if stdin is not None else None,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=90,
                check=False,
            )
        if result.returncode != 0:
            raise RuntimeError(
                f"`haven {' '.join(args)}` failed ({result.returncode}):\n{self.log_tail()}"
            )

    def start(self, timeout: float = 20.0) -> None:
        if self.running:
            return
        with self.log_path.open("ab") as log:
            log.write(b"$ haven serve\n")
            log.flush()
            self.process = subprocess.Popen(
                [*haven_command(), "serve", "--host", self.host, "--port", str(self.port)],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.wait_until_healthy(timeout)

    def wait_until_healthy(self, timeout: float) -> None:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + timeout
        last_error: Exception | str = "no answer"
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"haven serve exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                with opener.open(f"{self.base_url}/healthz", timeout=2) as response:
                    body = response.read().decode()
                if body.strip() == "ok":
                    return
                last_error = f"answered {body!r}"
            except (urllib.error.URLError, OSError) as exc:
                last_error = exc
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"haven serve did not become healthy in {timeout:.0f} s ({last_error}):\n"
            f"{self.log_tail()}"
        )

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_text().splitlines()[-lines:])

    # --- what the database holds ------------------------------------------------------------

    def database_dump(self) -> str:
        """Every value in every table of the server's database, as one string."""
        if self.database_url:
            return self._postgres_dump()
        return self._sqlite_dump()

    def _sqlite_dump(self) -> str:
        import sqlite3

        values: list[str] = []
        conn = sqlite3.connect(self.sqlite_path)
        try:
            tables = [
                row[0]
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            assert "chat_message" in tables and "chat_conversation" in tables, tables
            for table in tables:
                values.append(f"-- {table}")
                for row in conn.execute(f'SELECT * FROM "{table}"'):  # noqa: S608
                    values.extend(str(value) for value in row)
        finally:
            conn.close()
        return "\n".join(values)

    def _postgres_dump(self) -> str:
        assert self.database_url is not None
        pg_dump = shutil.which("pg_dump")
        if pg_dump:
            result = subprocess.run(
                [pg_dump, "--no-owner", "--no-privileges", self.database_url],
                capture_output=True,
                timeout=60,
                check=False,
            )
            if result.returncode == 0:
                return result.stdout.decode("utf-8", errors="replace")
            # A pg_dump older than the server refuses to run: read the rows instead.
        import psycopg

        values: list[str] = []
        with psycopg.connect(self.database_url) as conn:
            tables = [
                row[0]
                for row in conn.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
                )
            ]
            assert "chat_message" in tables and "chat_conversation" in tables, tables
            for table in tables:
                values.append(f"-- {table}")
                for row in conn.execute(f'SELECT * FROM public."{table}"'):  # noqa: S608
                    values.extend(str(value) for value in row)
        return "\n".join(values)

    def data_files(self) -> Iterable[Path]:
        return (path for path in self.data_dir.rglob("*") if path.is_file())


# --- pages -----------------------------------------------------------------------------------


def exactly(texts: Sequence[str]) -> list[re.Pattern[str]]:
    """For ``to_have_text([...])``: one item per text, each containing it, in this order."""
    return [re.compile(re.escape(text)) for text in texts]


def page_texts(page: Page) -> dict[str, str]:
    """The translated sentences the page's script shows (from its ``haven-config``)."""
    return page.evaluate(
        "() => JSON.parse(document.getElementById('haven-config').textContent).text"
    )


class VisitorUI:
    """The anonymous visitor's page, driven through element ids."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self._texts: dict[str, str] | None = None

    @property
    def texts(self) -> dict[str, str]:
        if self._texts is None:
            self._texts = page_texts(self.page)
        return self._texts

    def open(self) -> VisitorUI:
        self.page.goto(self.base_url + "/")
        expect(self.page.locator("#intro")).to_be_visible()
        return self

    @property
    def log(self) -> Locator:
        return self.page.locator("#log li")

    @property
    def pending(self) -> Locator:
        return self.page.locator("#log li.pending")

    @property
    def status(self) -> Locator:
        return self.page.locator("#chat-status")

    def start_chat(self) -> None:
        self.page.locator("#start-chat").click()
        self.answer_safe()
        self.expect_in_chat()

    def answer_safe(self) -> None:
        """Answer "yes" to the question asked before every chat: is it safe now?"""
        expect(self.page.locator("#safety-title")).to_be_focused()
        self.page.locator("#safe-yes").click()

    def expect_in_chat(self, timeout: float = TIMEOUT) -> None:
        """The chat view shows and the server has answered (the queue or the counsellor)."""
        expect(self.page.locator("#chat")).to_be_visible(timeout=timeout)
        expect(self.status).to_have_text(
            re.compile("|".join(re.escape(self.texts[key]) for key in ("writeAlready", "active"))),
            timeout=timeout,
        )

    def write(self, text: str) -> None:
        box = self.page.locator("#message")
        box.fill(text)
        box.press("Enter")

    def send(self, text: str) -> None:
        """Write ``text`` and wait until the server has stored it (it has a sequence number)."""
        self.write(text)
        self.expect_delivered(text)

    def expect_delivered(self, text: str, timeout: float = TIMEOUT) -> None:
        delivered = self.page.locator("#log li[data-seq]").filter(
            has=self.page.locator(".text", has_text=text)
        )
        expect(delivered).to_have_count(1, timeout=timeout)
        expect(self.pending).to_have_count(0, timeout=timeout)

    def end_chat(self) -> None:
        self.page.locator("#end-chat").click()
        expect(self.page.locator("#end-confirm")).to_be_visible()
        self.page.locator("#end-yes").click()
        self.expect_ended(by="visitor")

    def expect_ended(self, *, by: str) -> None:
        expect(self.page.locator("#ended")).to_be_visible(timeout=TIMEOUT)
        expect(self.page.locator("#chat")).to_be_hidden()
        key = "endedByVisitor" if by == "visitor" else "endedByCounsellor"
        expect(self.page.locator("#ended-reason")).to_have_text(self.texts[key])
        expect(self.log).to_have_count(0)

    def storage_length(self) -> int:
        return int(self.page.evaluate("() => window.sessionStorage.length"))


class CounsellorUI:
    """The counsellor's console, driven through element ids."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self._texts: dict[str, str] | None = None

    @property
    def texts(self) -> dict[str, str]:
        if self._texts is None:
            self._texts = page_texts(self.page)
        return self._texts

    def login(self, username: str, password: str = COUNSELLOR_PASSWORD) -> CounsellorUI:
        """Sign in through the form at /console/login/, set up the second step (as a new
        account does at its first sign-in) and wait for the live console."""
        self.submit_login(username, password)
        self.enrol_second_step()
        self.page.wait_for_url(re.compile(r"/console/$"))
        self.expect_connected()
        return self

    def enrol_second_step(self) -> list[str]:
        """Read the key shown under the QR code, type the app's code, keep the recovery
        codes. Returns the recovery codes."""
        self.page.wait_for_url(re.compile(r"/console/two-factor/setup/"))
        secret = self.page.locator("#totp-secret").inner_text()
        self.page.locator("#id_token").fill(totp_now(secret))
        self.page.locator("form button[type=submit]").click()
        codes = self.page.locator("#recovery-codes li")
        expect(codes).to_have_count(10)
        texts = codes.all_inner_texts()
        self.page.locator("#continue").click()
        return texts

    def submit_login(self, username: str, password: str) -> None:
        self.page.goto(self.base_url + "/console/login/")
        self.page.locator("#id_username").fill(username)
        self.page.locator("#id_password").fill(password)
        self.page.locator("form button[type=submit]").click()

    def expect_connected(self, timeout: float = TIMEOUT) -> None:
        expect(self.page.locator("#connection")).to_have_text(
            self.texts["connected"], timeout=timeout
        )

    def queue_item(self, marker: str) -> Locator:
        """The queue entry whose preview contains ``marker`` (each test uses its own)."""
        return self.page.locator("#queue li.queue-item").filter(
            has=self.page.locator(".preview", has_text=marker)
        )

    def accept(self, marker: str) -> None:
        item = self.queue_item(marker)
        expect(item).to_have_count(1, timeout=TIMEOUT)
        item.locator(".actions button.primary").click()
        expect(self.page.locator("#console-composer")).to_be_visible(timeout=TIMEOUT)
        expect(self.page.locator("#accept-current")).to_be_hidden()
        expect(item).to_have_count(0, timeout=TIMEOUT)

    @property
    def log(self) -> Locator:
        return self.page.locator("#console-log li")

    def write(self, text: str) -> None:
        box = self.page.locator("#console-message")
        box.fill(text)
        box.press("Enter")

    def send(self, text: str) -> None:
        self.write(text)
        mine = self.page.locator("#console-log li.mine:not(.pending)").filter(
            has=self.page.locator(".text", has_text=text)
        )
        expect(mine).to_have_count(1, timeout=TIMEOUT)

    def expect_message(self, text: str, timeout: float = TIMEOUT) -> None:
        item = self.page.locator("#console-log li").filter(
            has=self.page.locator(".text", has_text=text)
        )
        expect(item).to_have_count(1, timeout=timeout)

    def expect_ended(self) -> None:
        expect(self.page.locator("#pane-status")).to_have_text(self.texts["ended"], timeout=TIMEOUT)
        expect(self.page.locator("#console-composer")).to_be_hidden()
        expect(self.page.locator("#end-current")).to_be_hidden()


def totp_now(secret: str) -> str:
    """The current code of an authenticator app holding ``secret`` (base32, spaces allowed)."""
    import base64

    from django_otp.oath import totp

    key = secret.replace(" ", "").upper()
    return f"{totp(base64.b32decode(key + '=' * (-len(key) % 8))):06d}"


def unique(label: str) -> str:
    """A marker no other test (and no earlier run against the same server) uses."""
    return f"{label}-{os.urandom(4).hex()}"


def find_all(haystack: str, needle: str, width: int = 80) -> list[str]:
    """Every place ``needle`` occurs in ``haystack``, with some context, for a clear failure."""
    found = []
    start = 0
    while (index := haystack.find(needle, start)) != -1:
        found.append(haystack[max(0, index - width) : index + len(needle) + width])
        start = index + 1
    return found


def close_quietly(closable: Any) -> None:
    with contextlib.suppress(Exception):
        closable.close()
