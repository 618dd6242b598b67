"""A visitor who comes back: a return code asked for in one chat, typed in a later one."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from haven.chat.tests.browser.conftest import NewContext
from haven.chat.tests.browser.support import (
    CounsellorUI,
    ServerProcess,
    VisitorUI,
    exactly,
    find_all,
    unique,
)
from haven.chat.tests.browser.test_accessibility import (
    PHONE,
    assert_named,
    assert_no_horizontal_scroll,
    tab_to,
)

pytestmark = pytest.mark.browser

FOUR_WORDS = re.compile(r"^[a-z]+( [a-z]+){3}$")

# Everywhere a page could keep something after it is gone: its storage, address and title.
KEPT_BY_THE_BROWSER = """
() => JSON.stringify([
  Object.entries(window.sessionStorage), Object.entries(window.localStorage),
  window.location.href, document.title, document.cookie,
])
"""


def ask_for_code(visitor: VisitorUI) -> str:
    """Press "ask for a code" and read the phrase the page shows."""
    page = visitor.page
    page.locator("#code-ask").click()
    phrase = page.locator("#code-phrase")
    expect(page.locator("#code-box")).to_be_visible()
    expect(phrase).to_have_text(FOUR_WORDS)
    return phrase.inner_text().strip()


def returned_line(visitor: VisitorUI) -> str:
    return visitor.texts["returned"]


def test_a_visitor_comes_back_with_a_code(
    visitor: VisitorUI,
    counsellor: CounsellorUI,
    new_context: NewContext,
    server: ServerProcess,
):
    """In a first chat (still waiting) the visitor asks for a code: the page shows four
    words large, keeps them nowhere (no storage, address or title) and, after "I wrote it
    down", has them out of the page altogether. The visitor ends that chat. In a new
    browser, a new chat: the visitor types the code; the visitor sees the welcome-back line
    and the counsellor, accepting, sees the returned entry too. The phrase is in neither the
    server's log nor its database."""
    page = visitor.page
    visitor.start_chat()
    visitor.send(unique("Eerste keer hier"))
    phrase = ask_for_code(visitor)
    expect(page.locator("#code-box-title")).to_be_focused()
    assert phrase not in page.evaluate(KEPT_BY_THE_BROWSER)

    page.locator("#code-done").click()
    expect(page.locator("#code-box")).to_be_hidden()
    expect(page.locator("#message")).to_be_focused()
    assert phrase not in page.content()
    visitor.end_chat()
    assert phrase not in page.content()
    assert phrase not in page.evaluate(KEPT_BY_THE_BROWSER)

    # Another browser, as on another device.
    later = VisitorUI(new_context("visitor-later").new_page(), server.base_url).open()
    later.start_chat()
    marker = unique("Ik ben er weer")
    later.send(marker)
    later.page.locator("#code-use summary").click()
    code_box = later.page.locator("#code-input")
    code_box.fill(phrase.upper())
    code_box.press("Enter")
    expect(later.log).to_have_text(exactly([marker, returned_line(later)]))
    expect(later.page.locator("#log li.system")).to_have_text(returned_line(later))
    expect(later.page.locator("#code-use")).to_be_hidden()
    expect(code_box).to_have_value("")

    counsellor.accept(marker)
    visitor_side = [marker, returned_line(later), later.texts["joined"]]
    expect(later.log).to_have_text(exactly(visitor_side))
    system_lines = counsellor.page.locator("#console-log li.system")
    expect(system_lines).to_have_count(2)
    # The console's own words for the entry (console.js), first: it came before "joined".
    expect(system_lines.first).to_have_text(counsellor.texts["returned"])

    later.end_chat()
    counsellor.expect_ended()

    # The server kept the code only as a keyed hash, and never wrote it to its log.
    spaced, hyphened = phrase, phrase.replace(" ", "-")
    log = server.log_text()
    dump = server.database_dump()
    for form in (spaced, hyphened):
        assert not find_all(log, form), find_all(log, form)
        assert not find_all(dump, form), find_all(dump, form)


def test_a_code_typed_on_the_start_screen_with_a_slip_then_right(
    visitor: VisitorUI, new_context: NewContext, server: ServerProcess
):
    """A visitor can type a code on the start screen before starting. A wrong one gets the
    calm refusal next to the chat's code field, which holds what was typed, to correct;
    the corrected code is accepted and the welcome-back line shows."""
    visitor.start_chat()
    phrase = ask_for_code(visitor)
    visitor.page.locator("#code-done").click()
    visitor.end_chat()

    page: Page = new_context("visitor-later").new_page()
    later = VisitorUI(page, server.base_url).open()
    page.locator("#intro-code summary").click()
    words = phrase.split(" ")
    slip = " ".join([*words[:-1], "zzz"])
    page.locator("#intro-code-input").fill(slip)
    page.locator("#intro-code-input").press("Enter")
    later.answer_safe()
    later.expect_in_chat()

    error = page.locator("#code-error")
    expect(error).to_be_visible()
    expect(error).not_to_have_text("")
    expect(page.locator("#code-use")).to_have_attribute("open", "")
    expect(page.locator("#code-input")).to_have_value(slip)
    expect(page.locator("#code-input")).to_be_focused()
    expect(page.locator("#intro-code-input")).to_have_value("")
    expect(later.log).to_have_count(0)

    page.locator("#code-input").fill(phrase)
    page.locator("#code-submit").click()
    expect(later.log).to_have_text(exactly([returned_line(later)]))
    expect(error).to_be_hidden()
    later.end_chat()


def test_return_codes_on_a_phone_with_the_keyboard(new_context: NewContext, server: ServerProcess):
    """On a 360 px phone screen the code offer, the shown code and the code field fit
    without sideways scrolling, every new control has a name, and all of it works with the
    keyboard: Tab to "ask for a code", Enter; the focus moves to the code; Tab to "I wrote it
    down", Enter; the code is gone and the focus is back in the message box."""
    page = new_context("visitor", **PHONE).new_page()
    visitor = VisitorUI(page, server.base_url).open()
    page.locator("#intro-code summary").click()
    assert_named(page, "intro with the code field open")
    assert_no_horizontal_scroll(page, "intro with the code field open")
    page.locator("#intro-code summary").click()

    visitor.start_chat()
    tab_to(page, "code-ask")
    page.keyboard.press("Enter")
    expect(page.locator("#code-box-title")).to_be_focused()
    expect(page.locator("#code-phrase")).to_have_text(FOUR_WORDS)
    page.locator("#code-use summary").click()
    assert_named(page, "chat with a code shown")
    assert_no_horizontal_scroll(page, "chat with a code shown")

    tab_to(page, "code-done")
    page.keyboard.press("Enter")
    expect(page.locator("#code-box")).to_be_hidden()
    expect(page.locator("#code-phrase")).to_have_text("")
    expect(page.locator("#message")).to_be_focused()
    visitor.end_chat()
