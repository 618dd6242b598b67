"""The referral directory in the console: search by what an organisation helps with, insert
an entry into the reply, edit it, send it; and the supervisors' pages, by axe-core."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from haven.chat.tests.browser.conftest import COUNSELLOR_PASSWORD, NewContext
from haven.chat.tests.browser.support import CounsellorUI, ServerProcess, VisitorUI, unique
from haven.chat.tests.browser.test_axe import assert_accessible, axe_source  # noqa: F401

pytestmark = pytest.mark.browser

ADD_REFERRAL = (
    "from haven.referrals.models import Referral; from haven.core import clock; "
    "Referral.objects.get_or_create(organisation='{name}', defaults=dict(phone='0800 000 0042', "
    "helps_with='{topic} en wonen', region='Nederland', audience='minors', "
    "updated_at=clock.now()))"
)


def test_a_referral_is_found_inserted_and_edited_before_sending(
    new_context: NewContext,
    server: ServerProcess,
    axe_source: str,  # noqa: F811
) -> None:
    checked: list[str] = []
    topic = "t" + uuid.uuid4().hex[:8]
    name = "Synthetische Opvang " + topic
    server.manage("shell", "-c", ADD_REFERRAL.format(name=name, topic=topic))
    user = "s" + uuid.uuid4().hex[:10]
    server.manage(
        "createstaff", user, "--role", "counsellor", "--role", "supervisor",
        "--password-stdin", stdin=COUNSELLOR_PASSWORD + "\n",
    )  # fmt: skip
    staff_context = new_context("counsellor")
    staff_context.add_init_script(script=axe_source)
    console = CounsellorUI(staff_context.new_page(), server.base_url).login(user)
    page = console.page

    visitor = VisitorUI(new_context("visitor").new_page(), server.base_url).open()
    visitor.start_chat()
    marker = unique("Ik heb geen plek om te slapen")
    visitor.send(marker)
    console.accept(marker)

    page.locator("#referral-box summary").click()
    page.fill("#referral-search", topic.upper() + " WONEN")
    results = page.locator("#referral-results li.referral")
    expect(results).to_have_count(1)
    expect(results).to_contain_text(name)
    assert_accessible(page, "console, referral search", checked)
    page.press("#referral-search", "Enter")  # searching does not send the reply
    expect(visitor.page.locator("#log")).not_to_contain_text(name)
    results.get_by_role("button").click()
    box = page.locator("#console-message")
    expect(box).to_have_value(
        f"{name}\n{console.texts['referralPhone'].replace('%(phone)s', '0800 000 0042')}"
    )
    box.press("End")
    box.type("\nJe kunt ze altijd bellen.")
    box.press("Enter")
    visitor.expect_delivered(name)

    page.fill("#referral-search", "nothing-matches-" + topic)
    expect(page.locator("#referral-results li.referral")).to_have_count(0)

    page.goto(server.base_url + "/console/referrals/")
    expect(page.locator("#referrals")).to_contain_text(name)
    assert_accessible(page, "referral directory, list", checked)
    page.locator("#referral-new").click()
    assert_accessible(page, "referral directory, form", checked)
