"""A counsellor codes a finished chat, mostly with the keyboard, in under a minute."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from haven.chat.tests.browser.support import TIMEOUT, CounsellorUI, VisitorUI, unique

pytestmark = pytest.mark.browser

# The promise: an experienced counsellor codes a conversation in under a minute.
CODING_LIMIT_SECONDS = 60


def press(page: Page, selector: str, *keys: str) -> None:
    """Put the keyboard on one control and press keys there, as a counsellor tabbing to it
    would (Tab counts are checked once, below; elsewhere this keeps the test readable)."""
    page.locator(selector).focus()
    for key in keys:
        page.keyboard.press(key)


def test_counsellor_codes_a_finished_chat(visitor: VisitorUI, counsellor: CounsellorUI):
    """A visitor and a counsellor chat; the counsellor ends the chat. The console offers a
    "Code" link (new tab) and counts one conversation still to code. From the coding
    overview the counsellor opens the conversation beside its transcript and codes it with
    the keyboard: the form starts on the first question and Tab moves on in order. The
    draft is saved by itself. A platform chosen without social-media recruitment is refused
    with the reason next to the field and a focused error summary; the answers stay. After
    the fix, "Finish coding" returns to the overview, which confirms it and no longer lists
    the conversation. The coding steps take under a minute."""
    first = unique("Iemand heeft foto's van mij")
    visitor.start_chat()
    visitor.send(first)
    counsellor.accept(first)
    counsellor.send(unique("Fijn dat je het vertelt"))
    counsellor.page.once("dialog", lambda dialog: dialog.accept())
    counsellor.page.locator("#end-current").click()
    counsellor.expect_ended()
    visitor.expect_ended(by="counsellor")

    console = counsellor.page
    code_link = console.locator("#code-current")
    expect(code_link).to_be_visible()
    expect(code_link).to_have_attribute("target", "_blank")
    href = code_link.get_attribute("href") or ""
    match = re.search(r"/conversation/([0-9a-f-]{36})/$", href)
    assert match, href
    conversation_id = match.group(1)
    expect(console.locator("#coding-count")).to_have_text("1", timeout=TIMEOUT)

    # The header link opens the overview in a new tab; the console keeps running.
    with console.context.expect_page() as opened:
        console.locator("#coding-link").click()
    page = opened.value
    page.wait_for_load_state()
    row = page.locator(f'#still-to-code tr[data-conversation="{conversation_id}"]')
    expect(row).to_have_count(1)
    counsellor.expect_connected()

    started = time.monotonic()
    row.locator("a.code-link").click()
    page.wait_for_url(re.compile(rf"/console/cases/conversation/{conversation_id}/$"))
    # The transcript is beside the form, shown as text.
    expect(page.locator("#transcript .msg.theirs .text")).to_have_text([first])

    # The form starts on the first question; Tab goes on to the next, in codebook order.
    expect(page.locator("#id_contact_type_0")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#id_age")).to_be_focused()
    page.keyboard.type("14")
    page.keyboard.press("Tab")
    expect(page.locator("#id_age_band_6")).to_be_focused()  # "unknown": filled in from the age
    page.keyboard.press("Tab")
    expect(page.locator("#id_gender_3")).to_be_focused()  # "unknown"
    page.keyboard.press("ArrowRight")  # wraps to "girl"
    expect(page.locator("#id_gender_0")).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.locator("#id_exploitation_0")).to_be_focused()
    page.keyboard.press("Space")  # sexual
    # Enter in a field does not submit the form.
    page.keyboard.press("Enter")
    expect(page.locator("#id_exploitation_0")).to_be_checked()
    press(page, "#id_perpetrators_6", "Space")  # partner or "loverboy"
    press(page, "#id_still_exploited_2", "ArrowLeft", "ArrowLeft")  # unknown -> yes
    # Recruited in person, yet a platform: inconsistent on purpose.
    press(page, "#id_recruitment_4", "ArrowRight")  # unknown -> in person
    press(page, "#id_platform_11", "ArrowRight", "ArrowRight")  # n/a -> Instagram -> Snapchat
    press(page, "#id_urgency_2", "ArrowLeft")  # not urgent -> urgent

    # The draft keeps itself a few seconds after the last change.
    expect(page.locator("#draft-status")).to_have_text(re.compile(r"\d{1,2}:\d{2}"))

    press(page, "#finish-coding", "Enter")
    page.wait_for_load_state()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.locator('a[href="#id_platform_1"]')).to_have_count(1)
    expect(page.locator("#platform-error")).to_be_visible()
    expect(page.locator("#id_gender_0")).to_be_checked()  # the answers stay
    expect(page.locator("#id_platform_1")).to_be_checked()

    # The summary link leads to the field; the counsellor fixes the recruitment instead.
    summary.locator('a[href="#id_platform_1"]').click()
    expect(page.locator("#id_platform_1")).to_be_focused()
    press(page, "#id_recruitment_0", "ArrowRight", "ArrowRight")  # in person -> social media
    expect(page.locator("#id_recruitment_2")).to_be_checked()
    press(page, "#finish-coding", "Enter")

    page.wait_for_url(re.compile(r"/console/cases/$"))
    elapsed = time.monotonic() - started
    print(f"coding took {elapsed:.1f} s")
    expect(page.locator(".notice[role=status]")).to_have_count(1)
    expect(page.locator(f'tr[data-conversation="{conversation_id}"]')).to_have_count(0)
    assert elapsed < CODING_LIMIT_SECONDS, f"coding took {elapsed:.1f} s"

    # Back in the console, the count drops when the counsellor returns to it.
    console.bring_to_front()
    console.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")
    expect(console.locator("#coding-count")).to_have_text("")
