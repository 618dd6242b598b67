"""The counsellor's notes on a conversation: saved as typed, there again after a reload,
never on the visitor's screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from haven.chat.tests.browser.support import CounsellorUI, VisitorUI, unique

pytestmark = pytest.mark.browser


def test_notes_are_kept_and_never_reach_the_visitor(
    visitor: VisitorUI, counsellor: CounsellorUI
) -> None:
    visitor.start_chat()
    marker = unique("Ik wil iets vertellen")
    visitor.send(marker)
    counsellor.accept(marker)
    page = counsellor.page
    page.locator("#notes-box summary").click()
    note = unique("Synthetic note: mentions a cousin")
    page.locator("#notes-text").fill(note)
    expect(page.locator("#notes-state")).to_have_text(counsellor.texts["notesSaved"])
    page.reload()
    counsellor.expect_connected()
    page.locator("#mine li button").first.click()
    page.locator("#notes-box summary").click()
    expect(page.locator("#notes-text")).to_have_value(note)
    counsellor.send(unique("Fijn dat je er bent."))
    assert note not in visitor.page.content()
