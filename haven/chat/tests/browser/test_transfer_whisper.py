"""In the consoles: a supervisor whispers to the counsellor, who hands the conversation to a
colleague with a note. The colleague's console opens it with its history and the note; the
visitor reads only that another counsellor goes on, never a whisper or a note."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from haven.chat.tests.browser.conftest import COUNSELLOR_PASSWORD, NewContext
from haven.chat.tests.browser.support import CounsellorUI, ServerProcess, VisitorUI, unique
from haven.chat.tests.browser.test_axe import assert_accessible, axe_source  # noqa: F401

pytestmark = pytest.mark.browser


def _staff(server: ServerProcess, role: str) -> str:
    name = role[0] + uuid.uuid4().hex[:10]
    server.manage(
        "createstaff", name, "--role", role, "--password-stdin", stdin=COUNSELLOR_PASSWORD + "\n"
    )
    return name


def test_a_whisper_and_a_transfer_reach_the_team_and_never_the_visitor(
    new_context: NewContext,
    server: ServerProcess,
    counsellor: CounsellorUI,
    axe_source: str,  # noqa: F811
) -> None:
    checked: list[str] = []
    supervisor_context = new_context("supervisor")
    supervisor_context.add_init_script(script=axe_source)
    supervisor = CounsellorUI(supervisor_context.new_page(), server.base_url).login(
        _staff(server, "supervisor")
    )
    colleague_name = _staff(server, "counsellor")
    colleague = CounsellorUI(new_context("colleague").new_page(), server.base_url).login(
        colleague_name
    )
    colleague.expect_connected()

    visitor = VisitorUI(new_context("visitor").new_page(), server.base_url).open()
    visitor.start_chat()
    marker = unique("Ik wil iets vertellen")
    visitor.send(marker)
    counsellor.accept(marker)
    title = counsellor.page.locator("#conversation-title").inner_text()  # "Gesprek 7"
    # Its entry and no other ("Gesprek 17" also holds "Gesprek 1"): the title, then " ·".
    exact = re.compile("^" + re.escape(title) + r"(?!\d)")

    # The supervisor reads along from the live list and whispers.
    supervisor.page.locator("#live button").filter(has_text=exact).click()
    expect(supervisor.page.locator("#console-log")).to_contain_text(marker)
    whisper = unique("Synthetic whisper")
    supervisor.page.fill("#whisper-text", whisper)
    supervisor.page.locator("#whisper-form button[type=submit]").click()
    expect(counsellor.page.locator("#team-notes")).to_contain_text(whisper)
    expect(counsellor.page.locator("#console-alert")).to_be_visible()
    expect(supervisor.page.locator("#team-notes")).to_contain_text(whisper)
    supervisor.page.locator("#transfer-current").click()
    expect(supervisor.page.locator("#transfer-form")).to_be_visible()
    assert_accessible(supervisor.page, "console, the team's box and the transfer form", checked)
    supervisor.page.locator("#transfer-cancel").click()
    # The visitor reloads (a resume of the whole history): no whisper there either.
    visitor.page.reload()
    expect(visitor.page.locator("#log")).to_contain_text(marker)
    assert whisper not in visitor.page.content()

    # The counsellor hands it to the colleague, with a note.
    counsellor.page.locator("#transfer-current").click()
    option = counsellor.page.locator("#transfer-to option", has_text=colleague_name)
    expect(option).to_have_count(1)
    counsellor.page.select_option("#transfer-to", value=option.get_attribute("value"))
    note = unique("Synthetic note")
    counsellor.page.fill("#transfer-note", note)
    counsellor.page.locator("#transfer-form button[type=submit]").click()
    expect(counsellor.page.locator("#mine button").filter(has_text=exact)).to_have_count(0)

    # The colleague's console opens it: the history, the whisper and the note.
    expect(colleague.page.locator("#conversation-title")).to_have_text(title)
    expect(colleague.page.locator("#console-log")).to_contain_text(marker)
    expect(colleague.page.locator("#team-notes")).to_contain_text(note)
    expect(colleague.page.locator("#team-notes")).to_contain_text(whisper)
    reply = unique("Hoi, ik ben er nu")
    colleague.page.fill("#console-message", reply)
    colleague.page.locator("#console-composer button[type=submit]").click()

    # The visitor: the new counsellor's words and the plain line, nothing of the team's.
    log = visitor.page.locator("#log")
    expect(log).to_contain_text(reply)
    expect(log).to_contain_text(visitor.texts["transferred"])
    page = visitor.page.content()
    assert whisper not in page and note not in page

    # The transcript beside the coding form (what staff read later) has neither.
    colleague.page.once("dialog", lambda dialog: dialog.accept())
    colleague.page.locator("#end-current").click()
    href = colleague.page.locator("#code-current").get_attribute("href") or ""
    colleague.page.goto(server.base_url + href if href.startswith("/") else href)
    expect(colleague.page.locator("#transcript")).to_contain_text(reply)
    transcript = colleague.page.locator("#transcript").inner_text()
    assert whisper not in transcript and note not in transcript
