"""An emergency flagged by a counsellor reaches a supervisor's screen at once; the visitor
sees nothing of it."""

from __future__ import annotations

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
