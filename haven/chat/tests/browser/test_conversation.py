"""A visitor and a counsellor talking through the real server, in two browsers."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from haven.chat.tests.browser.support import (
    TIMEOUT,
    CounsellorUI,
    VisitorUI,
    exactly,
    unique,
)

pytestmark = pytest.mark.browser


def test_visitor_and_counsellor_talk_both_ways(visitor: VisitorUI, counsellor: CounsellorUI):
    """A whole conversation, live on both sides.

    The visitor starts a chat and writes while still waiting; the counsellor reads it in the
    queue preview, accepts, sees that history and replies; the visitor sees the "joined"
    notice and the reply and answers; the counsellor sees the answer. While the counsellor
    types, the visitor sees the typing indicator. The visitor ends the chat and both sides
    show that it has ended.
    """
    first = unique("Hallo, is daar iemand?")
    visitor.start_chat()
    visitor.send(first)

    # The counsellor sees the waiting visitor's words in the queue, before accepting.
    item = counsellor.queue_item(first)
    expect(item).to_have_count(1)
    expect(item.locator(".preview")).to_have_text(first)

    counsellor.accept(first)
    expect(counsellor.log).to_have_text(exactly([first, counsellor.texts["joined"]]))

    reply = unique("Hoi, ik ben er. Fijn dat je schrijft.")
    counsellor.send(reply)

    expect(visitor.status).to_have_text(visitor.texts["active"])
    expect(visitor.log).to_have_text(exactly([first, visitor.texts["joined"], reply]))
    expect(visitor.page.locator("#log li.theirs .text")).to_have_text([reply])

    answer = unique("Ik weet niet goed waar ik moet beginnen.")
    visitor.send(answer)
    counsellor.expect_message(answer)
    expect(counsellor.log).to_have_text(exactly([first, counsellor.texts["joined"], reply, answer]))
    expect(counsellor.page.locator("#console-log li.theirs .text")).to_have_text([first, answer])

    # Typing: frames are throttled to one per 3 s, so type slowly for longer than that;
    # the indicator then shows while (and shortly after) the counsellor types.
    typing = visitor.page.locator("#typing")
    expect(typing).to_have_text("")
    slow = "Neem de tijd, er is geen haast."
    counsellor.page.locator("#console-message").press_sequentially(slow, delay=130)
    expect(typing).to_have_text(visitor.texts["typing"])
    counsellor.page.locator("#console-message").press("Enter")
    visitor.expect_delivered(slow)
    # A message from the counsellor clears the indicator.
    expect(typing).to_have_text("")

    visitor.end_chat()
    counsellor.expect_ended()
    expect(counsellor.log.last).to_have_text(counsellor.texts["endedByVisitor"])
    expect(visitor.page.locator("#new-chat")).to_be_focused()


def test_counsellor_ends_the_chat(visitor: VisitorUI, counsellor: CounsellorUI):
    """The counsellor ends the conversation (after confirming): the visitor's page says the
    counsellor ended it and keeps nothing; the console shows it ended, without a composer."""
    first = unique("Kun je me helpen?")
    visitor.start_chat()
    visitor.send(first)
    counsellor.accept(first)
    counsellor.send(unique("Ik sluit dit gesprek nu af"))
    counsellor.page.once("dialog", lambda dialog: dialog.accept())
    counsellor.page.locator("#end-current").click()
    counsellor.expect_ended()
    expect(counsellor.log.last).to_have_text(counsellor.texts["endedByCounsellor"])
    visitor.expect_ended(by="counsellor")
    assert visitor.storage_length() == 0


def test_reload_shows_history_once(visitor: VisitorUI, counsellor: CounsellorUI):
    """After a reload mid-conversation the visitor sees the whole history exactly once, in
    order, and can keep chatting."""
    first = unique("Eerste bericht")
    visitor.start_chat()
    visitor.send(first)
    counsellor.accept(first)
    reply = unique("Antwoord van de hulpverlener")
    counsellor.send(reply)
    second = unique("Tweede bericht")
    visitor.send(second)
    history = [first, visitor.texts["joined"], reply, second]
    expect(visitor.log).to_have_text(exactly(history))

    visitor.page.reload()
    visitor.expect_in_chat()
    expect(visitor.log).to_have_text(exactly(history))
    expect(visitor.page.locator("#log li[data-seq]")).to_have_count(len(history))
    assert_in_sequence(visitor)

    third = unique("Na het herladen")
    visitor.send(third)
    counsellor.expect_message(third)
    fourth = unique("Goed dat je er nog bent")
    counsellor.send(fourth)
    visitor.expect_delivered(fourth)
    # Still exactly once each, also after more traffic on the new connection.
    expect(visitor.log).to_have_text(exactly([*history, third, fourth]))
    assert_in_sequence(visitor)
    expect(counsellor.log).to_have_text(
        exactly([first, counsellor.texts["joined"], reply, second, third, fourth])
    )
    visitor.end_chat()
    counsellor.expect_ended()


def test_reload_keeps_the_conversation_going(visitor: VisitorUI, counsellor: CounsellorUI):
    """After a reload the visitor is still in the same conversation: new messages go both
    ways and each shows once (the part of the reload behaviour that works today)."""
    first = unique("Voor het herladen")
    visitor.start_chat()
    visitor.send(first)
    counsellor.accept(first)
    reply = unique("Ik lees mee")
    counsellor.send(reply)
    visitor.expect_delivered(reply)

    visitor.page.reload()
    visitor.expect_in_chat()
    expect(visitor.status).to_have_text(visitor.texts["active"])
    after = unique("Na het herladen")
    visitor.send(after)
    counsellor.expect_message(after)
    answer = unique("Nog steeds hier")
    counsellor.send(answer)
    visitor.expect_delivered(answer)
    # Each new message once on the visitor's page (expect_delivered counts), in order.
    assert_in_sequence(visitor)
    # The counsellor's side has the whole conversation, once.
    expect(counsellor.log).to_have_text(
        exactly([first, counsellor.texts["joined"], reply, after, answer])
    )
    visitor.end_chat()
    counsellor.expect_ended()


def assert_in_sequence(visitor: VisitorUI) -> None:
    seqs = [
        int(seq)
        for seq in visitor.page.locator("#log li[data-seq]").evaluate_all(
            "items => items.map(li => li.dataset.seq)"
        )
    ]
    assert seqs == sorted(set(seqs)), seqs


MARKUP = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


def test_markup_in_messages_is_shown_as_text(visitor: VisitorUI, counsellor: CounsellorUI):
    """Markup in a message is shown as literal text at the visitor, in the queue preview
    and in the console, and none of it runs on either page."""
    marker = unique("markup")
    text = f"{marker} {MARKUP}"
    visitor.start_chat()
    visitor.send(text)

    expect(counsellor.queue_item(marker).locator(".preview")).to_have_text(text)
    counsellor.accept(marker)

    reply_text = f"{unique('reply')} {MARKUP}"
    counsellor.send(reply_text)
    visitor.expect_delivered(reply_text)

    for page, log in ((visitor.page, "#log"), (counsellor.page, "#console-log")):
        items = page.locator(f"{log} li .text")
        expect(items.filter(has_text=marker)).to_have_text(text, timeout=TIMEOUT)
        expect(items.filter(has_text="reply-")).to_have_text(reply_text)
        expect(page.locator(f"{log} script, {log} img")).to_have_count(0)
        assert page.evaluate("() => typeof window.__pwned") == "undefined"
    assert re.search(r"<script>", visitor.page.locator("#log").inner_text())
    visitor.end_chat()
    counsellor.expect_ended()
