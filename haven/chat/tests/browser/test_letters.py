"""Messages left for later, in Chromium: left while the chat is closed, answered from the
counsellors' list, read with the return code in another browser (another device); and a
waiting visitor whom nobody watches turning the wait into a message.

The server is shared by the package's tests: the hours a test sets are removed again
before it ends, whatever happens."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from haven.chat.tests.browser.conftest import NewContext
from haven.chat.tests.browser.support import TIMEOUT, CounsellorUI, ServerProcess, unique
from haven.chat.tests.browser.test_axe import PHONE, assert_accessible, axe_source  # noqa: F401
from haven.chat.tests.browser.test_return_code import KEPT_BY_THE_BROWSER

pytestmark = pytest.mark.browser

FOUR_WORDS = re.compile(r"^[a-z]+( [a-z]+){3}$")

CLOSE_TODAY = (
    "from django.utils import timezone; from haven.chat.models import OpeningException; "
    "OpeningException.objects.create(date=timezone.localdate(), closed=True, note='test')"
)
OPEN_AGAIN = (
    "from haven.chat.models import OpeningException; "
    "OpeningException.objects.filter(note='test').delete()"
)
NOBODY_WATCHES = (
    "from haven.chat.models import ConsolePresence; ConsolePresence.objects.all().delete()"
)


@pytest.fixture
def closed_today(server: ServerProcess) -> Iterator[None]:
    """Today is an exception to the hours: closed all day."""
    server.manage("shell", "-c", CLOSE_TODAY)
    try:
        yield
    finally:
        server.manage("shell", "-c", OPEN_AGAIN)


def nothing_kept(page: Page) -> None:
    """No storage, no cookie, a neutral address and title: nothing of the message stays."""
    assert page.evaluate("() => window.sessionStorage.length + window.localStorage.length") == 0
    assert page.evaluate("() => document.cookie") == ""


def test_a_message_left_while_closed_is_answered_and_read_on_another_device(
    new_context: NewContext,
    server: ServerProcess,
    counsellor_name: str,
    closed_today: None,
    axe_source: str,  # noqa: F811
) -> None:
    """Closed: the page says when the chat opens and offers a message instead of a chat.
    The visitor writes, gets four words (kept nowhere by the browser); the counsellor's
    console counts the waiting message at once; the counsellor answers it from the list;
    in another browser the code shows the message and the answer, and the visitor writes
    once more. Every screen passes axe-core."""
    checked: list[str] = []
    staff = new_context("counsellor").new_page()
    staff.context.add_init_script(script=axe_source)
    console = CounsellorUI(staff, server.base_url).login(counsellor_name)
    count = staff.locator("#letters-count")
    before = int(count.inner_text() or "0")

    phone = new_context("visitor", **PHONE)
    phone.add_init_script(script=axe_source)
    page = phone.new_page()
    page.goto(server.base_url + "/")
    notice = page.locator("#closed-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text(re.compile(r"dicht"))
    expect(page.locator("#start-chat")).to_be_hidden()
    assert_accessible(page, "visitor intro, closed", checked)
    page.locator("#leave-letter").click()
    expect(page.locator("#letter-title")).to_be_focused()
    assert_accessible(page, "leave a message", checked)
    marker = unique("Ik wil graag iets vertellen, later.")
    page.locator("#letter-text").fill(marker)
    page.locator("#letter-send").click()
    expect(page.locator("#letter-sent-title")).to_be_focused()
    phrase = page.locator("#letter-code")
    expect(phrase).to_have_text(FOUR_WORDS)
    code = phrase.inner_text().strip()
    assert_accessible(page, "message sent, the code", checked)
    nothing_kept(page)
    assert code.replace(" ", "-") not in page.evaluate(KEPT_BY_THE_BROWSER)
    page.locator("#letter-sent-done").click()
    expect(page.locator("#intro")).to_be_visible()
    expect(phrase).to_have_text("")
    console.expect_connected()
    expect(count).to_have_text(str(before + 1), timeout=TIMEOUT)

    # The counsellor: the list (newest waiting last), the message, the answer.
    staff.goto(server.base_url + "/console/letters/")
    assert_accessible(staff, "messages left, list", checked)
    staff.locator("#awaiting tbody tr").last.locator("a.button").click()
    expect(staff.locator("#letter-thread")).to_contain_text(marker)
    assert_accessible(staff, "message left, answer form", checked)
    answer = unique("Fijn dat je schreef. Kom gerust terug in de chat.")
    staff.locator("#id_text").fill(answer)
    staff.locator("form.letter-reply button[type=submit]").click()
    staff.wait_for_url(re.compile(r"/console/letters/$"))
    expect(staff.locator(".notice")).to_be_visible()

    # Another device: a fresh browser context, only the four words.
    other = new_context("visitor-elsewhere", **PHONE)
    other.add_init_script(script=axe_source)
    later = other.new_page()
    later.goto(server.base_url + "/")
    later.locator("#intro-code summary").click()
    later.locator("#intro-code-input").fill(code.upper())
    later.locator("#intro-code-read").click()
    expect(later.locator("#letter-thread-title")).to_be_focused()
    entries = later.locator("#letter-log li")
    expect(entries).to_have_count(2)
    expect(entries.nth(0)).to_contain_text(marker)
    expect(entries.nth(1)).to_contain_text(answer)
    expect(later.locator("#letter-no-answer")).to_be_hidden()
    assert_accessible(later, "messages read with the code", checked)
    more = unique("Dank je. Nog een vraag.")
    later.locator("#letter-more").fill(more)
    later.locator("#letter-more-form button[type=submit]").click()
    expect(entries).to_have_count(3)
    expect(later.locator("#letter-no-answer")).to_be_visible()
    later.locator("#letter-thread-done").click()
    expect(later.locator("#letter-log li")).to_have_count(0)
    nothing_kept(later)

    # A wrong code: calm words, nothing shown.
    later.locator("#intro-code summary").click()
    later.locator("#intro-code-input").fill("aap beer kat vis")
    later.locator("#intro-code-read").click()
    expect(later.locator("#intro-code-error")).not_to_be_empty()
    expect(later.locator("#letter-thread")).to_be_hidden()
    print("checked:", ", ".join(checked))


def test_a_visitor_nobody_watches_can_turn_the_wait_into_a_message(
    new_context: NewContext, server: ServerProcess, counsellor_name: str
) -> None:
    """No console open: the waiting visitor reads that nobody is online and may leave a
    message; what they wrote while waiting is in it already; sent, the chat is gone from
    the queue and from the browser, and the code is shown."""
    server.manage("shell", "-c", NOBODY_WATCHES)
    page = new_context("visitor", **PHONE).new_page()
    page.goto(server.base_url + "/")
    page.locator("#start-chat").click()
    page.locator("#safe-yes").click()
    unwatched = page.locator("#unwatched")
    expect(unwatched).to_be_visible()
    marker = unique("Is er iemand?")
    page.locator("#message").fill(marker)
    page.locator("#message").press("Enter")
    expect(page.locator("#log li[data-seq]")).to_have_count(1)
    page.locator("#unwatched-letter").click()
    expect(page.locator("#letter-title")).to_be_focused()
    expect(page.locator("#letter-text")).to_have_value(re.compile(re.escape(marker)))
    expect(page.locator("#letter-from-chat")).to_be_visible()
    # Back to the chat and again: nothing is lost on the way.
    page.locator("#letter-back").click()
    expect(page.locator("#chat")).to_be_visible()
    page.locator("#unwatched-letter").click()
    page.locator("#letter-send").click()
    expect(page.locator("#letter-code")).to_have_text(FOUR_WORDS)
    expect(page.locator("#chat")).to_be_hidden()
    # The code is on screen: "someone is coming" hides it too, and brings it back.
    page.locator("#cover-chat").click()
    expect(page.locator("#cover")).to_be_visible()
    expect(page.locator("#letter-sent")).to_be_hidden()
    page.locator("#uncover").click()
    expect(page.locator("#letter-sent-title")).to_be_focused()
    assert page.evaluate("() => window.sessionStorage.length") == 0
    expect(page.locator("#log li")).to_have_count(0)
    # The chat left the queue: a counsellor who comes now does not find it waiting.
    console = CounsellorUI(new_context("counsellor").new_page(), server.base_url)
    console.login(counsellor_name)
    page.wait_for_timeout(500)
    expect(console.queue_item(marker)).to_have_count(0)


def test_a_counsellor_who_comes_meanwhile_takes_the_visitor_back_to_the_chat(
    new_context: NewContext, server: ServerProcess, counsellor_name: str
) -> None:
    """The visitor nobody watched is writing a message instead; a counsellor signs in and
    accepts: the page goes back to the chat at once, and the words written stay."""
    server.manage("shell", "-c", NOBODY_WATCHES)
    page = new_context("visitor", **PHONE).new_page()
    page.goto(server.base_url + "/")
    page.locator("#start-chat").click()
    page.locator("#safe-yes").click()
    expect(page.locator("#unwatched")).to_be_visible()
    marker = unique("Hallo?")
    page.locator("#message").fill(marker)
    page.locator("#message").press("Enter")
    expect(page.locator("#log li[data-seq]")).to_have_count(1)
    page.locator("#unwatched-letter").click()
    page.locator("#letter-text").fill(marker + " en nog meer")
    console = CounsellorUI(new_context("counsellor").new_page(), server.base_url)
    console.login(counsellor_name)
    console.accept(marker)
    expect(page.locator("#chat")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("#letter")).to_be_hidden()
    expect(page.locator("#unwatched")).to_be_hidden()
    expect(page.locator("#letter-text")).to_have_value(marker + " en nog meer")
