"""Fixtures for the browser tests: the real server in a subprocess, and headless Chromium.

The server listens on 127.0.0.2 so that the browser reaches it from 127.0.0.1: a test can
then say that "127.0.0.1" (the visitor's address) is nowhere in the log or the database,
while the server's own address may be.

With ``DATABASE_URL`` set (as in the second CI run), the server uses its own PostgreSQL
database ``haven_e2e``, dropped and recreated before the first browser test, and keeps
``REDIS_URL``. Without it, the server uses SQLite in a fresh data directory.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from haven.chat.tests.browser.support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    COUNSELLOR_NAME,
    COUNSELLOR_PASSWORD,
    NEUTRAL_PAGE,
    TIMEOUT,
    CounsellorUI,
    ServerProcess,
    VisitorUI,
    close_quietly,
    free_port,
    recreate_postgres_database,
    server_environment,
)
from haven.conftest import skip_or_fail

ARTIFACTS = Path(__file__).resolve().parents[4] / "test-artifacts"

_reports = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    report = yield
    item.stash.setdefault(_reports, {})[report.when] = report
    return report


def _failed(node: pytest.Item) -> bool:
    reports = node.stash.get(_reports, {})
    return any(report.failed for report in reports.values())


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> Iterator[None]:
    """Overrides haven/conftest.py's reset of this process's channel layer: the browser tests
    only use the server's. (Its ``async_to_sync`` would also refuse to run, because the sync
    Playwright API leaves its event loop marked as running in this thread.)"""
    yield


# --- the server ----------------------------------------------------------------------------


@pytest.fixture(scope="package")
def haven_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One ``haven serve`` for these tests, with a migrated database and a counsellor."""
    root = tmp_path_factory.mktemp("haven-e2e")
    data_dir = root / "data"
    data_dir.mkdir()
    database_url = os.environ.get("DATABASE_URL") or None
    redis_url = None
    if database_url:
        redis_url = os.environ.get("REDIS_URL") or None
        try:
            database_url = recreate_postgres_database(database_url)
        except Exception as exc:
            skip_or_fail(f"cannot prepare the PostgreSQL database for browser tests: {exc}")
    server = ServerProcess(
        data_dir=data_dir,
        log_path=root / "server.log",
        env=server_environment(data_dir, database_url, redis_url),
        port=free_port(),
    )
    server.manage("migrate", "--noinput")
    server.manage(
        "createcounsellor", COUNSELLOR_NAME, "--password-stdin", stdin=COUNSELLOR_PASSWORD + "\n"
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def server(haven_server: ServerProcess, request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """The session's server, running (a test that restarted it may have left it stopped)."""
    haven_server.start()
    yield haven_server
    if _failed(request.node):
        _save_artifact(request.node, "server.log", haven_server.log_tail(400))


# --- the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    """Headless Chromium. Package-scoped, not session-scoped: while the sync Playwright API
    runs, this thread has a "running" event loop, which would break the async and
    ``async_to_sync`` tests that run after this package."""
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"{CHROMIUM} is missing: install Debian's chromium for browser tests")
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    expect.set_options(timeout=TIMEOUT)
    manager = sync_playwright()
    playwright = manager.start()
    try:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
    except PlaywrightError as exc:
        playwright.stop()
        skip_or_fail(f"Playwright cannot launch {CHROMIUM}: {exc.message.splitlines()[0]}")
        raise  # not reached: skip_or_fail raises
    try:
        yield browser
    finally:
        close_quietly(browser)
        playwright.stop()


def _fulfil_neutral(route: Route) -> None:
    route.fulfill(status=200, content_type="text/html; charset=utf-8", body=NEUTRAL_PAGE)


def _block_outside(route: Route) -> None:
    route.abort()


NewContext = Callable[..., BrowserContext]


@pytest.fixture
def new_context(
    chromium: Browser, server: ServerProcess, request: pytest.FixtureRequest
) -> Iterator[NewContext]:
    """Make a fresh browser context (one per role); screenshots of its pages on failure."""
    contexts: list[tuple[str, BrowserContext]] = []

    def make(role: str, **options: object) -> BrowserContext:
        context = chromium.new_context(**options)  # type: ignore[arg-type]
        context.set_default_timeout(TIMEOUT)
        context.set_default_navigation_timeout(TIMEOUT)
        # The quick exit's destination, served locally; nothing else may leave the machine.
        context.route("https://neutral.example/**", _fulfil_neutral)
        context.route(
            re.compile(r"^https?://(?!127\.0\.0\.2[:/]|neutral\.example/)"), _block_outside
        )
        contexts.append((role, context))
        return context

    yield make
    failed = _failed(request.node)
    for role, context in contexts:
        if failed:
            for index, page in enumerate(context.pages):
                _screenshot(request.node, f"{role}-{index}", page)
        close_quietly(context)


@pytest.fixture
def visitor_page(new_context: NewContext) -> Page:
    return new_context("visitor").new_page()


@pytest.fixture
def counsellor_page(new_context: NewContext) -> Page:
    return new_context("counsellor").new_page()


@pytest.fixture
def visitor(visitor_page: Page, server: ServerProcess) -> VisitorUI:
    """The visitor's page, opened at Haven's start page."""
    return VisitorUI(visitor_page, server.base_url).open()


@pytest.fixture
def counsellor_name(server: ServerProcess) -> str:
    """A new counsellor account (each test's own: its first sign-in sets up the second step)."""
    name = "c" + uuid.uuid4().hex[:10]
    server.manage("createcounsellor", name, "--password-stdin", stdin=COUNSELLOR_PASSWORD + "\n")
    return name


@pytest.fixture
def counsellor(counsellor_page: Page, server: ServerProcess, counsellor_name: str) -> CounsellorUI:
    """A counsellor signed in through the login form and the second step, console open."""
    return CounsellorUI(counsellor_page, server.base_url).login(counsellor_name)


# --- artifacts -----------------------------------------------------------------------------


def _artifact_name(node: pytest.Item, suffix: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", node.nodeid.split("::", 1)[-1])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"browser-{safe}-{suffix}"


def _screenshot(node: pytest.Item, label: str, page: Page) -> None:
    # A missing screenshot must not hide the real failure.
    with contextlib.suppress(Exception):
        page.screenshot(path=str(_artifact_name(node, f"{label}.png")), full_page=True)


def _save_artifact(node: pytest.Item, name: str, text: str) -> None:
    with contextlib.suppress(OSError):
        _artifact_name(node, name).write_text(text, encoding="utf-8")
