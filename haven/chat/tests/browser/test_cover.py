""" "Someone is coming": the visitor hides the chat behind an everyday screen at once, with
a neutral tab title; the counsellor is told, the chat does not end, and one tap brings the
visitor back to it, with what the counsellor wrote meanwhile."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from haven.chat.tests.browser.support import CounsellorUI, ServerProcess, VisitorUI, unique

pytestmark = pytest.mark.browser


def test_someone_is_coming_seen_from_both_sides(visitor: VisitorUI, counsellor: CounsellorUI):
    """Hidden: no word of the chat, no Haven button and no Haven title on the screen; the
    console says the visitor hid it and marks the conversation; a reply waits. Back: the
    reply is there, the console says the visitor is back. A reload while hidden stays
    hidden."""
    page = visitor.page
    secret = _talking(visitor, counsellor, "Ik durf het bijna niet te zeggen")
    neutral_title = page.title()

    page.locator("#cover-chat").click()
    expect(page.locator("#cover")).to_be_visible()
    expect(page.locator("#cover-title")).to_be_focused()
    expect(page).to_have_title(visitor.texts["coverTitle"])
    assert neutral_title != visitor.texts["coverTitle"]
    # Nothing of Haven is visible: not the chat, not the quick exit, not the language link.
    for hidden in ("#main", "#chat", "#log", "#quick-exit", "a.lang-switch"):
        expect(page.locator(hidden)).to_be_hidden()
    visible_text = page.locator("body").inner_text()
    assert secret not in visible_text and "Haven" not in visible_text

    console = counsellor.page
    expect(console.locator("#pane-status")).to_have_text(counsellor.texts["covered"])
    expect(console.locator("#mine .covered-mark")).to_have_count(1)
    reply = unique("Ik wacht op je, neem je tijd")
    counsellor.send(reply)
    counsellor.expect_message(reply)

    # A reload while hidden (someone taps the page): still the everyday screen.
    page.reload()
    expect(page.locator("#cover")).to_be_visible()
    expect(page.locator("#chat")).to_be_hidden()
    expect(page).to_have_title(visitor.texts["coverTitle"])
    expect(console.locator("#pane-status")).to_have_text(counsellor.texts["covered"])

    # One tap back: the chat is as it was, with the reply, and the counsellor is told.
    page.locator("#uncover").click()
    expect(page.locator("#cover")).to_be_hidden()
    expect(page.locator("#chat")).to_be_visible()
    expect(page).to_have_title(neutral_title)
    visitor.expect_delivered(reply)
    expect(page.locator("#message")).to_be_focused()
    expect(console.locator("#pane-status")).not_to_have_text(counsellor.texts["covered"])
    expect(console.locator("#mine .covered-mark")).to_have_count(0)
    expect(console.locator("#console-alert")).to_have_text(counsellor.texts["uncovered"])

    # The chat goes on.
    after = unique("Ik ben er weer")
    visitor.send(after)
    counsellor.expect_message(after)
    visitor.end_chat()
    counsellor.expect_ended()


def test_hide_the_chat_with_the_keyboard(visitor: VisitorUI):
    """Keyboard only: Tab to "someone is coming", Enter hides the chat (the focus on the
    everyday screen); Tab to "continue", Enter brings it back with the focus in the message
    box; Escape from the hidden screen still leaves at once."""
    page = visitor.page
    visitor.start_chat()
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "cover-chat":
            break
    page.keyboard.press("Enter")
    expect(page.locator("#cover-title")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#uncover")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#message")).to_be_focused()
    page.locator("#cover-chat").click()
    page.keyboard.press("Escape")
    expect(page).not_to_have_url(visitor.base_url + "/")


def test_coming_back_while_the_connection_is_gone_is_told_on_reconnecting(
    visitor: VisitorUI, counsellor: CounsellorUI, server: ServerProcess
):
    """Hidden, then the server goes away; the visitor comes back to the chat meanwhile.
    After both reconnect the console does not stay on "hidden" (the page says the change
    at its welcome; a console that reconnects forgets what the server does not keep)."""
    page = visitor.page
    _talking(visitor, counsellor, "Zo meteen ben ik even weg")
    console = counsellor.page
    page.locator("#cover-chat").click()
    expect(console.locator("#pane-status")).to_have_text(counsellor.texts["covered"])

    server.stop()
    page.locator("#uncover").click()
    # The connection is gone (the page says it is trying again) when the visitor comes back.
    expect(visitor.status).to_have_text(visitor.texts["reconnecting"], timeout=20_000)
    server.start()
    counsellor.expect_connected(timeout=30_000)
    expect(visitor.status).to_have_text(visitor.texts["active"], timeout=30_000)
    expect(console.locator("#mine .covered-mark")).to_have_count(0, timeout=20_000)
    expect(console.locator("#pane-status")).not_to_have_text(counsellor.texts["covered"])


def _talking(visitor: VisitorUI, counsellor: CounsellorUI, words: str) -> str:
    """A chat the visitor started with ``words`` (made unique), accepted by the counsellor:
    the visitor's first message."""
    first = unique(words)
    visitor.start_chat()
    visitor.send(first)
    counsellor.accept(first)
    expect(visitor.status).to_have_text(visitor.texts["active"])
    return first
