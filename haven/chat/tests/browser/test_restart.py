"""A server restart in the middle of a conversation loses nothing and shows nothing twice."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from haven.chat.tests.browser.support import (
    RECONNECT_TIMEOUT,
    CounsellorUI,
    ServerProcess,
    VisitorUI,
    exactly,
    unique,
)

pytestmark = pytest.mark.browser


def test_server_restart_mid_conversation(
    visitor: VisitorUI, counsellor: CounsellorUI, server: ServerProcess
):
    """The server stops while a visitor and a counsellor are talking. A message the visitor
    writes meanwhile shows as pending ("Sending…"); when the server is back (same port,
    same data) both pages reconnect by themselves, the message is delivered, and both sides
    show the whole conversation exactly once and can keep talking."""
    first = unique("Voor de herstart")
    visitor.start_chat()
    visitor.send(first)
    counsellor.accept(first)
    reply = unique("Ik ben er")
    counsellor.send(reply)
    visitor.expect_delivered(reply)

    server.stop()
    expect(visitor.status).to_have_text(visitor.texts["reconnecting"])
    expect(counsellor.page.locator("#connection")).to_have_text(counsellor.texts["reconnecting"])

    offline = unique("Geschreven terwijl de server weg was")
    visitor.write(offline)
    pending = visitor.pending.filter(has_text=offline)
    expect(pending).to_have_count(1)
    expect(pending).to_contain_text(visitor.texts["sending"])
    expect(visitor.page.locator("#log li[data-seq]")).to_have_count(3)

    server.start()
    visitor.expect_delivered(offline, timeout=RECONNECT_TIMEOUT)
    expect(visitor.status).to_have_text(visitor.texts["active"], timeout=RECONNECT_TIMEOUT)
    counsellor.expect_connected(timeout=RECONNECT_TIMEOUT)
    counsellor.expect_message(offline, timeout=RECONNECT_TIMEOUT)

    expect(visitor.log).to_have_text(exactly([first, visitor.texts["joined"], reply, offline]))
    expect(counsellor.log).to_have_text(
        exactly([first, counsellor.texts["joined"], reply, offline])
    )

    after = unique("Na de herstart")
    counsellor.send(after)
    visitor.expect_delivered(after)
    last = unique("Fijn dat het weer werkt")
    visitor.send(last)
    counsellor.expect_message(last)
    expect(visitor.log).to_have_text(
        exactly([first, visitor.texts["joined"], reply, offline, after, last])
    )
    expect(counsellor.log).to_have_text(
        exactly([first, counsellor.texts["joined"], reply, offline, after, last])
    )
    visitor.end_chat()
    counsellor.expect_ended()
