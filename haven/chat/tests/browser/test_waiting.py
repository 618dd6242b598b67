"""A waiting visitor reads their place and, when the queue's pace allows it, about how long
the wait is; a long wait brings a calm word with 112 and other places to turn. The server
is stood in for by a socket of the test (its frames as docs/protocol.md gives them), so that
the wait can be any length; the estimate itself is tested on the server
(test_waits.py, test_queue.py)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from haven.chat.tests.browser.support import ServerProcess, VisitorUI

pytestmark = pytest.mark.browser

CONVERSATION = "0b7e6f5c-3f43-4bb4-9a53-4c3f0d2f7c11"


def _queue(position: int, estimate: int | None) -> Callable[[WebSocketRoute], None]:
    def route(ws: WebSocketRoute) -> None:
        def on_message(message: str | bytes) -> None:
            if json.loads(message).get("type") != "start":
                return
            welcome = {
                "type": "welcome",
                "conversation": CONVERSATION,
                "status": "waiting",
                "last_seq": 0,
                "token": "t0k3n",
                "position": position,
                "estimate_minutes": estimate,
            }
            ws.send(json.dumps(welcome))
            ws.send(json.dumps({"type": "history", "conversation": CONVERSATION,
                                "status": "waiting", "messages": []}))  # fmt: skip
            if position > 1:
                moved = {
                    "type": "queue_position",
                    "conversation": CONVERSATION,
                    "position": position - 1,
                    "estimate_minutes": None if estimate is None else max(5, estimate - 10),
                }
                ws.send(json.dumps(moved))

        ws.on_message(on_message)

    return route


def _waiting(page: Page, server: ServerProcess, position: int, estimate: int | None) -> VisitorUI:
    page.route_web_socket("**/ws/visitor/**", _queue(position, estimate))
    visitor = VisitorUI(page, server.base_url).open()
    page.locator("#start-chat").click()
    page.locator("#safe-yes").click()
    return visitor


def test_a_short_wait_is_said_and_no_more(visitor_page: Page, server: ServerProcess) -> None:
    """Place 2, about 10 minutes; then place 1, about 5. No word on a long wait."""
    visitor = _waiting(visitor_page, server, position=2, estimate=10)
    status = visitor_page.locator("#chat-status")
    expect(status).to_contain_text("5 minuten")
    expect(status).to_contain_text(visitor.texts["positionFirst"])
    expect(visitor_page.locator("#long-wait")).to_be_hidden()


def test_a_long_wait_brings_a_calm_word_with_112(visitor_page: Page, server: ServerProcess) -> None:
    """About 40 minutes: said, and the note on the long wait shows 112 and other numbers."""
    _waiting(visitor_page, server, position=9, estimate=40)
    expect(visitor_page.locator("#chat-status")).to_contain_text("30 minuten")
    note = visitor_page.locator("#long-wait")
    expect(note).to_be_visible()
    expect(note).to_contain_text("112")
    expect(note).to_contain_text("0800-0432")


def test_without_an_estimate_nothing_is_said_about_time(
    visitor_page: Page, server: ServerProcess
) -> None:
    """Too little to go on: the place only, no minutes, no note."""
    visitor = _waiting(visitor_page, server, position=3, estimate=None)
    status = visitor_page.locator("#chat-status")
    expect(status).to_contain_text("2")
    expect(status).not_to_contain_text("minuten")
    expect(visitor_page.locator("#long-wait")).to_be_hidden()
    assert visitor.texts["waitAbout"]


def test_the_long_wait_note_goes_with_the_wait(visitor_page: Page, server: ServerProcess) -> None:
    """A chat that ends while the note shows takes the note with it: a new chat with a short
    wait shows none."""
    starts = 0

    def route(ws: WebSocketRoute) -> None:
        def on_message(message: str | bytes) -> None:
            nonlocal starts
            if json.loads(message).get("type") != "start":
                return
            starts += 1
            estimate = 40 if starts == 1 else 5
            ws.send(json.dumps({"type": "welcome", "conversation": CONVERSATION,
                                "status": "waiting", "last_seq": 0, "token": f"t{starts}",
                                "position": 1, "estimate_minutes": estimate}))  # fmt: skip
            ws.send(json.dumps({"type": "history", "conversation": CONVERSATION,
                                "status": "waiting", "messages": []}))  # fmt: skip
            if starts == 1:
                ws.send(json.dumps({"type": "state", "conversation": CONVERSATION,
                                    "status": "ended", "ended_by": "system"}))  # fmt: skip

        ws.on_message(on_message)

    page = visitor_page
    page.route_web_socket("**/ws/visitor/**", route)
    VisitorUI(page, server.base_url).open()
    page.locator("#start-chat").click()
    page.locator("#safe-yes").click()
    expect(page.locator("#ended")).to_be_visible()
    page.locator("#new-chat").click()
    page.locator("#safe-yes").click()
    expect(page.locator("#chat-status")).to_contain_text("5 minuten")
    expect(page.locator("#long-wait")).to_be_hidden()
