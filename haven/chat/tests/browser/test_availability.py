"""A counsellor sets themselves away, and back: the queue shows but takes nothing from them,
and a visitor who starts while every console is away is told nobody is there."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from haven.chat.tests.browser.conftest import NewContext
from haven.chat.tests.browser.support import CounsellorUI, ServerProcess, VisitorUI, unique

pytestmark = pytest.mark.browser

NOBODY_WATCHES = (
    "from haven.chat.models import ConsolePresence; ConsolePresence.objects.all().delete()"
)


def test_away_and_back(
    new_context: NewContext, server: ServerProcess, counsellor_name: str
) -> None:
    server.manage("shell", "-c", NOBODY_WATCHES)
    console = CounsellorUI(new_context("counsellor").new_page(), server.base_url)
    console.login(counsellor_name)
    page = console.page
    expect(page.locator("#available")).to_be_checked()
    page.locator("#available").uncheck()
    expect(page.locator("#away-note")).to_be_visible()

    visitor = VisitorUI(new_context("visitor").new_page(), server.base_url).open()
    visitor.start_chat()
    expect(visitor.page.locator("#unwatched")).to_be_visible()
    marker = unique("Is er iemand beschikbaar?")
    visitor.send(marker)
    item = console.queue_item(marker)
    expect(item).to_have_count(1)
    expect(item.locator(".actions button.primary")).to_be_disabled()

    # Back, with a limit of one conversation at once.
    page.locator("#available").check()
    page.locator("#max-chats").select_option("1")
    expect(page.locator("#away-note")).to_be_hidden()
    console.accept(marker)
    expect(visitor.status).to_have_text(visitor.texts["active"])
    # The choice is kept: a reload shows it as set.
    page.reload()
    console.expect_connected()
    expect(page.locator("#max-chats")).to_have_value("1")
    expect(page.locator("#available")).to_be_checked()
