"""A counsellor is told of a new visitor and of a message out of sight: a short tone and a
count in the tab's title, each of which the counsellor can turn off (kept per account in
this browser)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from haven.chat.tests.browser.conftest import NewContext
from haven.chat.tests.browser.support import CounsellorUI, ServerProcess, VisitorUI, unique

pytestmark = pytest.mark.browser

# The tone is counted instead of played, and the window's focus is the test's to set.
STUBS = """
window.__beeps = 0;
window.__focused = true;
document.hasFocus = function () { return window.__focused; };
window.AudioContext = function () {
  return {
    currentTime: 0, destination: {},
    createOscillator: function () {
      return {
        frequency: {}, connect: function () {}, stop: function () {},
        start: function () { window.__beeps += 1; },
      };
    },
    createGain: function () {
      return {
        connect: function () {},
        gain: { setValueAtTime: function () {}, exponentialRampToValueAtTime: function () {} },
      };
    },
  };
};
"""


def new_visitor(new_context: NewContext, server: ServerProcess, text: str) -> VisitorUI:
    visitor = VisitorUI(new_context("visitor").new_page(), server.base_url).open()
    visitor.start_chat()
    visitor.send(text)
    return visitor


def beeps(page: Page) -> int:
    return int(page.evaluate("() => window.__beeps"))


def test_a_new_visitor_sounds_and_counts_in_the_title_unless_turned_off(
    new_context: NewContext, server: ServerProcess, counsellor_name: str
) -> None:
    context = new_context("counsellor")
    context.add_init_script(script=STUBS)
    console = CounsellorUI(context.new_page(), server.base_url).login(counsellor_name)
    page = console.page
    title = page.title()
    expect(page.locator("#notify-sound")).to_be_checked()
    expect(page.locator("#notify-title")).to_be_checked()
    page.evaluate("() => { window.__focused = false; }")

    first = unique("Eerste bezoeker")
    new_visitor(new_context, server, first)
    expect(console.queue_item(first)).to_have_count(1)
    expect(page).to_have_title(re.compile(r"^\(1\) "))
    assert beeps(page) == 1
    # Looking at the console again clears the count.
    page.evaluate("() => { window.__focused = true; window.dispatchEvent(new Event('focus')); }")
    expect(page).to_have_title(title)

    # Sound off: a title count only. Then title off too: nothing at all.
    page.locator("#notify-sound").uncheck()
    page.evaluate("() => { window.__focused = false; }")
    second = unique("Tweede bezoeker")
    new_visitor(new_context, server, second)
    expect(console.queue_item(second)).to_have_count(1)
    expect(page).to_have_title(re.compile(r"^\(1\) "))
    assert beeps(page) == 1
    page.locator("#notify-title").uncheck()
    expect(page).to_have_title(title)
    third = unique("Derde bezoeker")
    new_visitor(new_context, server, third)
    expect(console.queue_item(third)).to_have_count(1)
    expect(page).to_have_title(title)
    assert beeps(page) == 1

    # The choices stay for this account in this browser.
    page.reload()
    console.expect_connected()
    expect(page.locator("#notify-sound")).not_to_be_checked()
    expect(page.locator("#notify-title")).not_to_be_checked()
