"""Nothing about the chat is left on the device after it ends, or after a quick exit: no
cookie, no storage of any kind for Haven's address, and nothing of Haven in the browser's
cache (every response Haven sends is ``Cache-Control: no-store``, scripts and styles too).

The cache is read the way the browser reports it (Chromium's DevTools protocol): after the
chat, Haven is opened again and no response may come from the disk or memory cache.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from haven.chat.tests.browser.support import NEUTRAL_URL, ServerProcess, VisitorUI, unique

pytestmark = pytest.mark.browser


class Network:
    """Every response the page receives, as Chromium's DevTools report it."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.responses: list[dict[str, Any]] = []
        self.session = context.new_cdp_session(page)
        self.session.send("Network.enable")
        self.session.on("Network.responseReceived", lambda e: self.responses.append(e))

    def haven(self, base_url: str) -> list[dict[str, Any]]:
        return [r["response"] for r in self.responses if r["response"]["url"].startswith(base_url)]


def assert_nothing_kept(context: BrowserContext, page: Page, server: ServerProcess) -> None:
    """No cookie, no local or session storage, no IndexedDB or Cache Storage, no service
    worker for Haven; and opening Haven again loads every file from the network."""
    origin = server.base_url
    state = context.storage_state()
    assert [c for c in state["cookies"] if c["domain"] == server.host] == []
    assert [o for o in state["origins"] if o["origin"] == origin] == []
    session = context.new_cdp_session(page)
    usage = session.send("Storage.getUsageAndQuota", {"origin": origin})
    kept = {b["storageType"]: b["usage"] for b in usage["usageBreakdown"] if b["usage"]}
    assert kept == {}, kept

    network = Network(context, page)
    page.goto(origin + "/")
    expect(page.locator("#intro")).to_be_visible()
    assert page.evaluate("() => window.sessionStorage.length + window.localStorage.length") == 0
    # (Asked from Haven's own page, which sees only its own address's.)
    assert page.evaluate("async () => window.caches ? (await caches.keys()).length : 0") == 0
    assert (
        page.evaluate("async () => (await navigator.serviceWorker.getRegistrations()).length") == 0
    )
    loaded = network.haven(origin)
    assert {r["url"].rsplit("/", 1)[-1].split("?")[0] for r in loaded} >= {
        "",
        "haven.css",
        "visitor.js",
        "socket.js",
    }, [r["url"] for r in loaded]
    for response in loaded:
        assert not response.get("fromDiskCache"), response["url"]
        assert not response.get("fromPrefetchCache"), response["url"]
        headers = {k.lower(): v for k, v in response["headers"].items()}
        assert "no-store" in headers.get("cache-control", ""), (response["url"], headers)


def test_nothing_left_after_the_chat_ends(visitor: VisitorUI, server: ServerProcess):
    """After a chat that the visitor ended, in the same browser."""
    visitor.start_chat()
    visitor.send(unique("Dit mag niemand zien"))
    assert visitor.storage_length() > 0  # the chat is in sessionStorage while it runs
    visitor.end_chat()
    assert visitor.storage_length() == 0
    assert_nothing_kept(visitor.page.context, visitor.page, server)


def test_nothing_left_after_a_quick_exit(visitor: VisitorUI, server: ServerProcess):
    """After a quick exit in the middle of a chat, in the same browser."""
    page = visitor.page
    visitor.start_chat()
    visitor.send(unique("Ik moet weg"))
    page.locator("#quick-exit").click()
    expect(page).to_have_url(NEUTRAL_URL)
    assert_nothing_kept(page.context, page, server)
