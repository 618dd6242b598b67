"""The team's figures in Chromium: a supervisor sees now, the charts per hour of the week and
the chats per counsellor, chooses a period, and downloads the file; axe-core finds no
serious or critical violation."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from haven.chat.tests.browser.conftest import COUNSELLOR_PASSWORD, NewContext
from haven.chat.tests.browser.support import CounsellorUI, ServerProcess, VisitorUI, unique
from haven.chat.tests.browser.test_axe import assert_accessible, axe_source  # noqa: F401

pytestmark = pytest.mark.browser


def test_a_supervisor_reads_the_team_figures(
    new_context: NewContext,
    server: ServerProcess,
    counsellor: CounsellorUI,
    counsellor_name: str,
    axe_source: str,  # noqa: F811
) -> None:
    checked: list[str] = []
    visitor = VisitorUI(new_context("visitor").new_page(), server.base_url).open()
    visitor.start_chat()
    marker = unique("Hallo")
    visitor.send(marker)
    counsellor.accept(marker)

    name = "s" + uuid.uuid4().hex[:10]
    server.manage(
        "createstaff", name, "--role", "supervisor",
        "--password-stdin", stdin=COUNSELLOR_PASSWORD + "\n",
    )  # fmt: skip
    context = new_context("supervisor")
    context.add_init_script(script=axe_source)
    supervisor = CounsellorUI(context.new_page(), server.base_url).login(name)
    page = supervisor.page
    page.goto(server.base_url + "/console/cases/")
    page.locator("#nav-team").click()
    expect(page.locator("#now-live")).not_to_have_text("0")
    expect(page.locator("#chart-started svg[role=img]")).to_have_count(1)
    expect(page.locator("#chart-left svg[role=img]")).to_have_count(1)
    expect(page.locator("#per-counsellor")).to_contain_text(counsellor_name)
    assert_accessible(page, "team figures", checked)
    page.select_option("#team-weeks", "13")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#team-weeks")).to_have_value("13")
    with page.expect_download() as download:
        page.locator("#team-download").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert "withheld" in text
    # The danger words' page, also the supervisors'.
    page.goto(server.base_url + "/console/danger-words/")
    expect(page.locator("#danger-terms")).to_be_visible()
    assert_accessible(page, "danger words", checked)
