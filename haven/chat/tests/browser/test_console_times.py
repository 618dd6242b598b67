"""The console shows the helpline's clock, not the computer's: a counsellor whose laptop is
set to New York reads Amsterdam times, and the queue counts the minutes waiting."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from haven.chat.tests.browser.conftest import NewContext
from haven.chat.tests.browser.support import CounsellorUI, ServerProcess, VisitorUI, unique

pytestmark = pytest.mark.browser

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def clock_times_around_now() -> str:
    """A pattern for the Amsterdam clock time now, or a minute either side."""
    now = dt.datetime.now(AMSTERDAM)
    times = {(now + dt.timedelta(minutes=m)).strftime("%H:%M") for m in (-1, 0, 1)}
    return "(" + "|".join(sorted(times)) + ")"


def test_staff_read_the_helplines_time_whatever_their_computer_says(
    new_context: NewContext, server: ServerProcess, counsellor_name: str
) -> None:
    visitor = VisitorUI(new_context("visitor").new_page(), server.base_url).open()
    visitor.start_chat()
    marker = unique("Hoe laat is het?")
    visitor.send(marker)

    laptop = new_context("counsellor", timezone_id="America/New_York")
    console = CounsellorUI(laptop.new_page(), server.base_url).login(counsellor_name)
    expect(console.page.locator("#time-zone-note")).to_contain_text("Europe/Amsterdam")
    label = console.queue_item(marker).locator(".waiting-label")
    expect(label).to_have_text(re.compile(r"\b0 min\b.*" + clock_times_around_now()))
    # Its name is its number of the day, with the visitor's language.
    about = console.queue_item(marker).locator(".queue-about")
    expect(about).to_have_text(re.compile(r"^\S+ [1-9]\d* · NL$"))
    # The browser's own zone really is New York (five or six hours behind).
    offset = console.page.evaluate("() => new Date().getTimezoneOffset()")
    assert offset in (240, 300)
    console.accept(marker)
    sent = console.page.locator("#console-log li.theirs time").first
    expect(sent).to_have_text(re.compile(clock_times_around_now()))
