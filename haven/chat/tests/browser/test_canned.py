"""Canned responses in the console: "/" and a shortcut, a choice by keyboard, the text in
the reply box to edit before sending; and the supervisors' page, by axe-core."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from haven.chat.tests.browser.conftest import COUNSELLOR_PASSWORD, NewContext
from haven.chat.tests.browser.support import CounsellorUI, ServerProcess, VisitorUI, unique
from haven.chat.tests.browser.test_axe import assert_accessible, axe_source  # noqa: F401

pytestmark = pytest.mark.browser

ADD_RESPONSE = (
    "from haven.canned.models import CannedResponse; from haven.core import clock; "
    "CannedResponse.objects.get_or_create(language='nl', shortcut='{shortcut}', "
    "defaults=dict(title='Welkom test', text='{text}', updated_at=clock.now()))"
)


def test_a_canned_response_is_inserted_by_shortcut_and_edited_before_sending(
    new_context: NewContext,
    server: ServerProcess,
    axe_source: str,  # noqa: F811
) -> None:
    checked: list[str] = []
    shortcut = "w" + uuid.uuid4().hex[:6]
    text = "Fijn dat je ons schrijft. Vertel in je eigen tempo."
    server.manage("shell", "-c", ADD_RESPONSE.format(shortcut=shortcut, text=text))
    name = "s" + uuid.uuid4().hex[:10]
    server.manage(
        "createstaff", name, "--role", "counsellor", "--role", "supervisor",
        "--password-stdin", stdin=COUNSELLOR_PASSWORD + "\n",
    )  # fmt: skip
    staff_context = new_context("counsellor")
    staff_context.add_init_script(script=axe_source)
    console = CounsellorUI(staff_context.new_page(), server.base_url).login(name)
    page = console.page

    visitor = VisitorUI(new_context("visitor").new_page(), server.base_url).open()
    visitor.start_chat()
    marker = unique("Hallo?")
    visitor.send(marker)
    console.accept(marker)

    box = page.locator("#console-message")
    box.fill("/" + shortcut[:3])
    options = page.locator("#canned-list [role=option]")
    expect(options.filter(has_text="/" + shortcut)).to_have_count(1)
    assert_accessible(page, "console, canned responses offered", checked)
    # Pick it by keyboard: the list is filtered to it by typing the whole shortcut.
    box.fill("/" + shortcut)
    expect(options).to_have_count(1)
    box.press("Enter")
    expect(box).to_have_value(text)
    expect(page.locator("#canned-list")).to_be_hidden()
    # Nothing was sent yet: the counsellor edits first, then sends.
    expect(visitor.page.locator("#log li")).not_to_contain_text([text])
    box.press("End")
    box.type(" Ik ben er.")
    box.press("Enter")
    visitor.expect_delivered(text + " Ik ben er.")
    # Escape closes the list and leaves what was typed.
    box.fill("/" + shortcut[:2])
    expect(page.locator("#canned-list")).to_be_visible()
    box.press("Escape")
    expect(page.locator("#canned-list")).to_be_hidden()
    expect(box).to_have_value("/" + shortcut[:2])

    page.goto(server.base_url + "/console/canned/")
    expect(page.locator(f"tr[data-shortcut='{shortcut}']")).to_have_count(1)
    assert_accessible(page, "canned responses, list", checked)
    page.locator(f"tr[data-shortcut='{shortcut}'] a").click()
    expect(page).to_have_url(re.compile(r"/console/canned/\d+/$"))
    assert_accessible(page, "canned response, form", checked)
