"""Signing in to the console through its form, as the browser really submits it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from haven.chat.tests.browser.support import (
    COUNSELLOR_NAME,
    COUNSELLOR_PASSWORD,
    CounsellorUI,
    ServerProcess,
)

pytestmark = pytest.mark.browser


def test_counsellor_signs_in_through_the_form(
    counsellor_page: Page, server: ServerProcess, counsellor_name: str
):
    """A new counsellor who fills in the sign-in form with the right password is first sent
    to set up the second step (QR code and key, a code from the app, ten recovery codes),
    then reaches the live console (the browser posts the forms itself, so the CSRF origin
    check is the real one)."""
    console = CounsellorUI(counsellor_page, server.base_url)
    console.submit_login(counsellor_name, COUNSELLOR_PASSWORD)
    expect(counsellor_page).to_have_url(re.compile(r"/console/two-factor/setup/"))
    expect(counsellor_page.locator(".qr svg")).to_be_visible()
    codes = console.enrol_second_step()
    assert len(set(codes)) == 10
    expect(counsellor_page).to_have_url(re.compile(r"/console/$"))
    expect(counsellor_page.locator("#queue")).to_be_attached()
    console.expect_connected()


def test_second_sign_in_asks_for_a_code_and_takes_a_recovery_code(
    counsellor_page: Page, server: ServerProcess, counsellor_name: str, new_context
):
    """After set-up, signing in again asks for the code; a wrong one is refused calmly and
    a recovery code lets the counsellor in."""
    first = CounsellorUI(counsellor_page, server.base_url)
    first.submit_login(counsellor_name, COUNSELLOR_PASSWORD)
    codes = first.enrol_second_step()
    page = new_context("counsellor").new_page()
    again = CounsellorUI(page, server.base_url)
    again.submit_login(counsellor_name, COUNSELLOR_PASSWORD)
    expect(page).to_have_url(re.compile(r"/console/two-factor/\?next="))
    page.locator("#id_token").fill("000000")
    page.locator("form button[type=submit]").first.click()
    expect(page.locator("#token-error")).to_be_visible()
    page.wait_for_timeout(1100)  # django-otp waits a second after a wrong code
    page.locator("#id_token").fill(codes[0])
    page.locator("form button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/console/$"))
    again.expect_connected()


def test_wrong_password_is_refused(counsellor_page: Page, server: ServerProcess):
    """A wrong password keeps the counsellor on the sign-in page with a message, and the
    console stays closed."""
    console = CounsellorUI(counsellor_page, server.base_url)
    console.submit_login(COUNSELLOR_NAME, "not the right password at all")
    expect(counsellor_page.locator("main.login [role=alert]")).to_be_visible()
    expect(counsellor_page).to_have_url(re.compile(r"/console/login/$"))
    counsellor_page.goto(server.base_url + "/console/")
    expect(counsellor_page).to_have_url(re.compile(r"/console/login/\?next="))
