"""The two optional questions after a chat, in Chromium, and their place in the figures."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from haven.chat.tests.browser.support import ServerProcess, VisitorUI

pytestmark = pytest.mark.browser


def test_a_visitor_answers_the_two_questions_after_a_chat(
    visitor: VisitorUI, server: ServerProcess, tmp_path: Path
) -> None:
    """After the end: two questions, either may be left out; by keyboard alone; a thank
    you in their place. The browser keeps nothing, and the year's figures count it."""
    page = visitor.page
    visitor.start_chat()
    visitor.end_chat()
    form = page.locator("#feedback")
    expect(form).to_be_visible()
    # Sending nothing says why, calmly.
    page.locator("#feedback-send").click()
    expect(page.locator("#feedback-error")).not_to_be_empty()
    page.locator("input[name=helped][value=a_little]").focus()
    page.keyboard.press("Space")
    expect(page.locator("input[name=helped][value=a_little]")).to_be_checked()
    page.locator("#feedback-send").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#feedback-thanks")).to_be_focused()
    expect(page.locator("#feedback-thanks")).not_to_be_empty()
    expect(form).to_be_hidden()
    assert page.evaluate("() => window.sessionStorage.length + window.localStorage.length") == 0
    # A new chat, ended again, asks again.
    page.locator("#new-chat").click()
    visitor.answer_safe()
    visitor.expect_in_chat()
    visitor.end_chat()
    expect(form).to_be_visible()
    expect(page.locator("input[name=helped]:checked")).to_have_count(0)

    output = tmp_path / "report.json"
    year = dt.datetime.now(dt.UTC).year
    server.manage("report", "--year", str(year), "--format", "json", "--output", str(output))
    helped = json.loads(output.read_text())["feedback"]["questions"][0]
    counts = {option["code"]: option["count"] for option in helped["options"]}
    assert counts["a_little"] >= 1
