"""The quick exit: one press and Haven is gone from the screen, the history and the tab."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from haven.chat.tests.browser.support import (
    NEUTRAL_URL,
    CounsellorUI,
    ServerProcess,
    VisitorUI,
    unique,
)

pytestmark = pytest.mark.browser

ON_HAVEN = re.compile(r"^https?://127\.0\.0\.2[:/]")


@pytest.mark.parametrize("trigger", ["button", "escape"])
def test_quick_exit_leaves_no_way_back(
    trigger: str, visitor_page: Page, counsellor: CounsellorUI, server: ServerProcess
):
    """The quick exit (the button, or the Escape key) in the middle of a chat replaces Haven
    with the neutral page: Back does not lead to Haven, the tab keeps nothing for Haven's
    origin (opening Haven again shows the intro, not the chat), and the counsellor's
    console shows that the conversation has ended."""
    page = visitor_page
    page.goto(NEUTRAL_URL)
    expect(page).to_have_title("Neutral")
    visitor = VisitorUI(page, server.base_url).open()
    visitor.start_chat()
    marker = unique("Ik moet zo misschien snel weg")
    visitor.send(marker)
    counsellor.accept(marker)
    expect(visitor.status).to_have_text(visitor.texts["active"])
    assert visitor.storage_length() > 0, "the chat should be in sessionStorage before leaving"

    if trigger == "button":
        page.locator("#quick-exit").click()
    else:
        page.keyboard.press("Escape")

    expect(page).to_have_url(NEUTRAL_URL)
    expect(page).to_have_title("Neutral")
    page.go_back()
    expect(page).not_to_have_url(ON_HAVEN)
    page.go_back()
    expect(page).not_to_have_url(ON_HAVEN)

    # The console learns at once that the visitor has gone, in a hurry: not as a normal end,
    # and no "typing" line is left behind.
    expect(counsellor.page.locator("#pane-status")).to_have_text(counsellor.texts["leftQuickly"])
    expect(counsellor.page.locator("#console-composer")).to_be_hidden()
    expect(counsellor.log.last).to_have_text(counsellor.texts["leftQuickly"])
    expect(counsellor.page.locator("#console-typing")).to_have_text("")

    # sessionStorage belongs to the tab: opening Haven again in the same tab starts afresh.
    page.goto(server.base_url + "/")
    expect(page.locator("#intro")).to_be_visible()
    expect(page.locator("#chat")).to_be_hidden()
    expect(page.locator("#ended")).to_be_hidden()
    assert visitor.storage_length() == 0
    # And so does a new tab in the same browser.
    fresh = page.context.new_page()
    fresh.goto(server.base_url + "/")
    expect(fresh.locator("#intro")).to_be_visible()
    expect(fresh.locator("#chat")).to_be_hidden()
    assert fresh.evaluate("() => window.sessionStorage.length") == 0


def test_tab_keeps_the_chat_without_quick_exit(visitor_page: Page, server: ServerProcess):
    """The control for the test above: without the quick exit, a tab that leaves Haven and
    comes back picks up the same chat (so an empty sessionStorage there means something)."""
    page = visitor_page
    visitor = VisitorUI(page, server.base_url).open()
    visitor.start_chat()
    visitor.send(unique("Nog even hier"))
    assert visitor.storage_length() > 0
    page.goto(NEUTRAL_URL)
    expect(page).to_have_title("Neutral")
    page.goto(server.base_url + "/")
    visitor.expect_in_chat()
    expect(page.locator("#intro")).to_be_hidden()
    assert visitor.storage_length() > 0
    visitor.end_chat()
    assert visitor.storage_length() == 0
