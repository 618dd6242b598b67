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

    # The form starts on the first question, with nothing chosen there; a digit chooses
    # and goes on; Tab goes on to the next question without choosing.
    expect(page.locator("#id_contact_type_0")).to_be_focused()
    expect(page.locator("#q-contact_type input:checked")).to_have_count(0)
    expect(page.locator("#q-urgency input:checked")).to_have_count(0)
    page.keyboard.press("1")  # victim, about themselves
    expect(page.locator("#id_contact_type_0")).to_be_checked()
    expect(page.locator("#id_urgency_0")).to_be_focused()
    page.keyboard.press("Tab")  # the urgency is chosen later
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
    press(page, "#id_urgency_2", "ArrowLeft")  # nothing chosen -> urgent

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


def test_a_typical_case_is_coded_in_at_most_15_key_presses(
    visitor: VisitorUI, counsellor: CounsellorUI
) -> None:
    """A typical case (a girl of 14, sexual exploitation by a "loverboy" partner, still
    going on, telling it for the first time, recruited through Snapchat, urgent) is coded
    from the moment the form opens to the finished case in 14 key presses, counted here:
    a digit per answer (it moves on by itself), Enter to leave a question as it is, Ctrl+
    Enter to finish; the follow-ups that do not apply are passed over."""
    first = unique("Hij wil dat ik met anderen meega")
    visitor.start_chat()
    visitor.send(first)
    counsellor.accept(first)
    counsellor.page.once("dialog", lambda dialog: dialog.accept())
    counsellor.page.locator("#end-current").click()
    counsellor.expect_ended()
    href = counsellor.page.locator("#code-current").get_attribute("href") or ""
    url = counsellor.base_url.rstrip("/") + href if href.startswith("/") else href
    page = counsellor.page.context.new_page()
    page.goto(url)
    expect(page.locator("#id_contact_type_0")).to_be_focused()

    presses: list[str] = []

    def key(*keys: str) -> None:
        for k in keys:
            presses.append(k)
            page.keyboard.press(k)

    key("1")  # contact: victim, about themselves -> urgency
    key("2")  # urgent -> age
    key("1", "4", "Enter")  # 14 -> (the band is filled in) gender
    key("1")  # girl -> exploitation
    key("1")  # sexual -> perpetrators
    key("7")  # partner ("loverboy") -> (the number is optional) still exploited
    key("1")  # yes -> duration
    key("Enter")  # not known -> first disclosure
    key("1")  # yes, the first time -> recruitment
    key("3")  # social media -> platform
    key("2")  # Snapchat -> sextortion
    key("Control+Enter")  # finish
    page.wait_for_url(re.compile(r"/console/cases/$"))
    print(f"a typical case took {len(presses)} key presses")
    assert len(presses) <= 15, presses
    expect(page.locator(".notice[role=status]")).to_have_count(1)
    # Coded as meant: the record beside the transcript.
    page.goto(url)
    record = page.locator("#earlier-record")
    for answer in ("14", "Snapchat"):
        expect(record).to_contain_text(answer)
