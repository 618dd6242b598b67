"""Accessibility basics: small screens, names for every control, keyboard-only use."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from haven.chat.tests.browser.support import (
    CounsellorUI,
    ServerProcess,
    VisitorUI,
    unique,
)

pytestmark = pytest.mark.browser

PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
NAMED = re.compile(r"\S")

# Every button, link, text box and input field must have a name a screen reader can say:
# its own text, an aria-label, text referenced by aria-labelledby, or a <label>.
UNNAMED_CONTROLS = """
() => {
  const text = (node) => (node ? (node.innerText || node.textContent || "").trim() : "");
  const unnamed = [];
  for (const el of document.querySelectorAll("button, a, textarea, input, select")) {
    if (el.type === "hidden") continue;
    const own = el.tagName === "TEXTAREA" || el.tagName === "INPUT" ? "" : text(el);
    const ariaLabel = (el.getAttribute("aria-label") || "").trim();
    const labelledBy = (el.getAttribute("aria-labelledby") || "")
      .split(/\\s+/).filter(Boolean).map((id) => text(document.getElementById(id))).join("");
    const labels = Array.from(el.labels || []).map(text).join("");
    if (!own && !ariaLabel && !labelledBy && !labels) unnamed.push(el.outerHTML.slice(0, 160));
  }
  return unnamed;
}
"""


def scroll_width(page: Page) -> int:
    return int(page.evaluate("() => document.documentElement.scrollWidth"))


def assert_no_horizontal_scroll(page: Page, where: str) -> None:
    width = scroll_width(page)
    assert width <= 360, f"{where}: the page is {width} px wide on a 360 px screen"


def assert_named(page: Page, where: str) -> None:
    unnamed = page.evaluate(UNNAMED_CONTROLS)
    assert unnamed == [], f"{where}: controls without an accessible name: {unnamed}"


def assert_control(locator: Locator, role: str) -> None:
    """The control has this role and a non-empty accessible name, and can be found by both."""
    expect(locator).to_have_role(role)  # type: ignore[arg-type]
    expect(locator).to_have_accessible_name(NAMED)
    name = " ".join(
        locator.evaluate("el => el.getAttribute('aria-label') || el.innerText || ''").split()
    )
    if name:
        found = locator.page.get_by_role(role, name=name, exact=True)  # type: ignore[arg-type]
        expect(found.and_(locator)).to_have_count(1)


def test_small_screen_has_no_horizontal_scroll(new_context, server: ServerProcess):
    """On a 360 x 740 phone screen the visitor page never scrolls sideways: not on the
    intro, not in the chat (also with a long unbroken word), not in the end dialog, not
    after the chat has ended."""
    page = new_context("visitor", **PHONE).new_page()
    visitor = VisitorUI(page, server.base_url).open()
    assert_no_horizontal_scroll(page, "intro")

    visitor.start_chat()
    assert_no_horizontal_scroll(page, "chat, waiting")
    visitor.send(unique("Een gewoon bericht met een paar woorden erin"))
    visitor.send(unique("x" * 300))
    assert_no_horizontal_scroll(page, "chat, long message")

    page.locator("#end-chat").click()
    expect(page.locator("#end-confirm")).to_be_visible()
    assert_no_horizontal_scroll(page, "end dialog")
    page.locator("#end-yes").click()
    visitor.expect_ended(by="visitor")
    assert_no_horizontal_scroll(page, "ended")


def test_every_control_has_an_accessible_name(
    visitor: VisitorUI, counsellor_page: Page, server: ServerProcess, counsellor_name: str
):
    """Every button, link and text field on the visitor page and on the console (and its
    sign-in page) has an accessible name, and the main controls have the right roles."""
    page = visitor.page
    assert_control(page.locator("#start-chat"), "button")
    assert_control(page.locator("#quick-exit"), "button")
    assert_control(page.locator("a.lang-switch"), "link")
    assert_named(page, "visitor intro")

    visitor.start_chat()
    message = page.locator("#message")
    assert_control(message, "textbox")
    label = page.locator("label[for=message]").inner_text().strip()
    expect(page.get_by_role("textbox", name=label, exact=True)).to_have_count(1)
    assert_control(page.locator("#composer button[type=submit]"), "button")
    assert_control(page.locator("#end-chat"), "button")
    expect(page.get_by_role("log")).to_have_accessible_name(NAMED)
    marker = unique("Wie ben jij?")
    visitor.send(marker)
    page.locator("#end-chat").click()
    assert_control(page.locator("#end-yes"), "button")
    assert_control(page.locator("#end-no"), "button")
    page.locator("#end-no").click()
    expect(message).to_be_focused()
    assert_named(page, "visitor chat")

    # The console's sign-in page.
    console = CounsellorUI(counsellor_page, server.base_url)
    counsellor_page.goto(server.base_url + "/console/login/")
    assert_control(counsellor_page.locator("#id_username"), "textbox")
    assert_control(counsellor_page.locator("form button[type=submit]"), "button")
    expect(counsellor_page.locator("#id_password")).to_have_accessible_name(NAMED)
    assert_named(counsellor_page, "sign-in page")

    # The console, with a visitor waiting: read along first, then accept.
    console.login(counsellor_name)
    item = console.queue_item(marker)
    read, accept = (
        item.locator(".actions button.secondary"),
        item.locator(".actions button.primary"),
    )
    assert_control(read, "button")
    assert_control(accept, "button")
    expect(counsellor_page.get_by_role("list", name=re.compile(r"\S")).first).to_be_visible()
    assert_named(counsellor_page, "console with queue")
    read.click()
    expect(counsellor_page.locator("#console-log")).to_contain_text(marker)
    assert_control(counsellor_page.locator("#accept-current"), "button")
    assert_named(counsellor_page, "console reading along")
    counsellor_page.locator("#accept-current").click()
    expect(counsellor_page.locator("#console-composer")).to_be_visible()
    assert_control(counsellor_page.locator("#console-message"), "textbox")
    assert_control(counsellor_page.locator("#console-composer button[type=submit]"), "button")
    assert_control(counsellor_page.locator("#end-current"), "button")
    expect(counsellor_page.get_by_role("log")).to_have_accessible_name(NAMED)
    expect(counsellor_page.locator("#mine button.conversation-link")).not_to_have_count(0)
    assert_named(counsellor_page, "console in a conversation")

    visitor.end_chat()
    console.expect_ended()


def test_visitor_chats_with_the_keyboard_only(visitor: VisitorUI):
    """Without a mouse: Tab to the start button, Enter asks whether it is safe now (the focus
    on the question), Tab to "yes", Enter starts the chat with the focus in the message box,
    typing and Enter sends; Tab to "stop", Enter, and the focus moves to the
    confirmation, where Shift+Tab and Enter end the chat."""
    page = visitor.page
    tab_to(page, "start-chat")
    page.keyboard.press("Enter")
    expect(page.locator("#safety-title")).to_be_focused()
    tab_to(page, "safe-yes")
    page.keyboard.press("Enter")
    visitor.expect_in_chat()
    expect(page.locator("#message")).to_be_focused()

    text = unique("Ik typ alleen met het toetsenbord")
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    visitor.expect_delivered(text)
    expect(page.locator("#message")).to_have_value("")

    tab_to(page, "end-chat")
    page.keyboard.press("Enter")
    expect(page.locator("#end-no")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(page.locator("#end-yes")).to_be_focused()
    page.keyboard.press("Enter")
    visitor.expect_ended(by="visitor")
    expect(page.locator("#new-chat")).to_be_focused()


def tab_to(page: Page, element_id: str, limit: int = 20) -> None:
    """Press Tab until the element with this id has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement && document.activeElement.id") == (
            element_id
        ):
            return
    raise AssertionError(f"#{element_id} cannot be reached with Tab in {limit} presses")
