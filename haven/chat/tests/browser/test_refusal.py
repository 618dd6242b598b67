"""A refused chat start on a phone: the visitor sees why, where they tapped."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import WebSocketRoute, expect

from haven.chat.tests.browser.support import ServerProcess, VisitorUI

pytestmark = pytest.mark.browser

REFUSAL = "Je kunt nu geen nieuwe chat starten. Probeer het later nog eens."


def _refuse_every_start(ws: WebSocketRoute) -> None:
    """Stand in for a server that refuses a start (as it does after too many starts from
    one place), answering with the error frame of docs/protocol.md."""

    def on_message(message: str | bytes) -> None:
        if json.loads(message).get("type") == "start":
            ws.send(json.dumps({"type": "error", "code": "unavailable", "message": REFUSAL}))

    ws.on_message(on_message)


def test_a_refused_start_shows_on_a_phone_screen(new_context, server: ServerProcess) -> None:  # type: ignore[no-untyped-def]
    """On a 390x844 phone the refusal appears under the start button, on screen, without
    scrolling; the "press Esc" hint is not shown on a device without a keyboard."""
    context = new_context(
        "visitor", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.route_web_socket(re.compile(r"/ws/visitor/"), _refuse_every_start)
    VisitorUI(page, server.base_url).open()
    page.locator("#start-chat").click()
    page.locator("#safe-yes").click()
    notice = page.locator("#intro-notice")
    expect(notice).to_have_text(REFUSAL)
    expect(notice).to_be_in_viewport()
    expect(page.locator("#quick-exit-hint")).to_be_hidden()
    expect(page.locator("#intro")).to_be_visible()
