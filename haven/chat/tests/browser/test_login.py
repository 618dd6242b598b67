"""Signing in to the console through its form, as the browser really submits it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from haven.chat.tests.browser.support import (
    COUNSELLOR_NAME,
    CounsellorUI,
    ServerProcess,
)

pytestmark = pytest.mark.browser


def test_counsellor_signs_in_through_the_form(counsellor_page: Page, server: ServerProcess):
    """A counsellor who fills in the sign-in form with the right password reaches the live
    console (the browser posts the form itself, so its CSRF origin check is the real one)."""
    console = CounsellorUI(counsellor_page, server.base_url).login()
    expect(counsellor_page).to_have_url(re.compile(r"/console/$"))
    expect(counsellor_page.locator("#queue")).to_be_attached()
    console.expect_connected()


def test_wrong_password_is_refused(counsellor_page: Page, server: ServerProcess):
    """A wrong password keeps the counsellor on the sign-in page with a message, and the
    console stays closed."""
    console = CounsellorUI(counsellor_page, server.base_url)
    console.submit_login(COUNSELLOR_NAME, "not the right password at all")
    expect(counsellor_page.locator("main.login [role=alert]")).to_be_visible()
    expect(counsellor_page).to_have_url(re.compile(r"/console/login/$"))
    counsellor_page.goto(server.base_url + "/console/")
    expect(counsellor_page).to_have_url(re.compile(r"/console/login/\?next="))
