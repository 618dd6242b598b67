"""Before every chat, one question: is it safe for you to chat now? "No" shows how to come
back and the way out, and starts nothing; "yes" (or "it is safe now") starts the chat."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, WebSocket, expect

from haven.chat.tests.browser.support import NEUTRAL_URL, ServerProcess, VisitorUI

pytestmark = pytest.mark.browser

ON_HAVEN = re.compile(r"^https?://127\.0\.0\.2[:/]")


def sockets_opened(page: Page) -> list[WebSocket]:
    opened: list[WebSocket] = []
    page.on("websocket", lambda socket: opened.append(socket))
    return opened


def test_not_safe_shows_the_way_out_and_starts_nothing(visitor_page: Page, server: ServerProcess):
    """ "No, not now" opens no connection (no conversation is made), says the visitor can
    come back, shows 112 and a large quick exit that leaves no way back."""
    page = visitor_page
    page.goto(NEUTRAL_URL)
    opened = sockets_opened(page)
    visitor = VisitorUI(page, server.base_url).open()
    page.locator("#start-chat").click()
    expect(page.locator("#safety-title")).to_be_focused()
    expect(page.locator("#intro")).to_be_hidden()
    page.locator("#safe-no").click()
    expect(page.locator("#not-safe-title")).to_be_focused()
    expect(page.locator("#not-safe")).to_contain_text("112")
    expect(page.locator("#leave-now")).to_be_visible()
    expect(page.locator("#chat")).to_be_hidden()
    assert opened == [], "a connection was opened although it is not safe"
    assert visitor.storage_length() == 0

    page.locator("#leave-now").click()
    expect(page).to_have_url(NEUTRAL_URL)
    page.go_back()
    expect(page).not_to_have_url(ON_HAVEN)


def test_safe_now_after_all_starts_the_chat(visitor: VisitorUI):
    """After "no", "it is safe now" starts the chat (the question is not asked again)."""
    page = visitor.page
    page.locator("#start-chat").click()
    page.locator("#safe-no").click()
    page.locator("#safe-now").click()
    visitor.expect_in_chat()
    expect(page.locator("#message")).to_be_focused()
    visitor.end_chat()


def test_the_question_comes_again_before_a_new_chat(visitor: VisitorUI):
    """A new chat after one has ended is asked again (the situation may have changed); the
    Escape key leaves from the question too."""
    visitor.start_chat()
    visitor.end_chat()
    page = visitor.page
    page.locator("#new-chat").click()
    expect(page.locator("#safety-title")).to_be_focused()
    expect(page.locator("#ended")).to_be_hidden()
    page.keyboard.press("Escape")
    expect(page).not_to_have_url(ON_HAVEN)
