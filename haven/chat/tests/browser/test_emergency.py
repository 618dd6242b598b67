"""An emergency flagged by a counsellor reaches a supervisor's screen at once; danger words
raise a waiting visitor in the queue. The visitor sees nothing of either."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from haven.chat.tests.browser.conftest import COUNSELLOR_PASSWORD, NewContext
from haven.chat.tests.browser.support import CounsellorUI, ServerProcess, VisitorUI, unique

pytestmark = pytest.mark.browser


def test_an_emergency_reaches_the_supervisor_at_once(
    new_context: NewContext, server: ServerProcess, counsellor: CounsellorUI
) -> None:
    name = "s" + uuid.uuid4().hex[:10]
    server.manage(
        "createstaff", name, "--role", "supervisor",
        "--password-stdin", stdin=COUNSELLOR_PASSWORD + "\n",
    )  # fmt: skip
    supervisor = CounsellorUI(new_context("supervisor").new_page(), server.base_url).login(name)

    visitor = VisitorUI(new_context("visitor").new_page(), server.base_url).open()
    visitor.start_chat()
    marker = unique("Ik ben bang")
    visitor.send(marker)
    counsellor.accept(marker)
    flag = counsellor.page.locator("#urgent-current")
    expect(flag).to_have_attribute("aria-pressed", "false")
    flag.click()
    expect(flag).to_have_attribute("aria-pressed", "true")

    alert = supervisor.page.locator("#console-alert")
    expect(alert).to_contain_text(
        counsellor.page.locator("#conversation-title").inner_text().split()[-1]
    )
    expect(supervisor.page.locator("#live li.urgent")).to_have_count(1)
    assert "urgent" not in visitor.page.content().lower()
    expect(visitor.status).to_have_text(visitor.texts["active"])


def test_danger_words_raise_a_waiting_visitor_with_a_hint(
    new_context: NewContext, server: ServerProcess, counsellor: CounsellorUI
) -> None:
    """A supervisor saves the team's danger words; a waiting visitor who writes one goes to
    the top of the queue, marked as a hint (never a decision); the visitor sees nothing."""
    name = "s" + uuid.uuid4().hex[:10]
    server.manage(
        "createstaff", name, "--role", "supervisor",
        "--password-stdin", stdin=COUNSELLOR_PASSWORD + "\n",
    )  # fmt: skip
    supervisor = CounsellorUI(new_context("supervisor").new_page(), server.base_url).login(name)
    term = "woord" + uuid.uuid4().hex[:8]
    supervisor.page.goto(server.base_url + "/console/danger-words/")
    supervisor.page.fill("#danger-terms", f"in gevaar\n{term}")
    supervisor.page.locator("main form button[type=submit]").click()
    expect(supervisor.page.locator("#danger-terms")).to_have_value(f"in gevaar\n{term}")
    try:
        first = VisitorUI(new_context("first").new_page(), server.base_url).open()
        first.start_chat()
        calm = unique("Hallo")
        first.send(calm)
        raised = VisitorUI(new_context("raised").new_page(), server.base_url).open()
        raised.start_chat()
        marker = unique(f"Ik zeg {term.upper()} nu")
        raised.send(marker)
        top = counsellor.page.locator("#queue li.queue-item").first
        expect(top).to_contain_text(marker)
        expect(top).to_have_class(re.compile(r"\bdanger\b"))
        expect(top.locator(".danger-hint")).to_have_text(counsellor.texts["dangerHint"])
        assert "gevaar" not in raised.page.locator("#log").inner_text().replace(marker, "")
    finally:
        supervisor.page.fill("#danger-terms", "")
        supervisor.page.locator("main form button[type=submit]").click()
        expect(supervisor.page.locator("#danger-terms")).to_have_value("")
