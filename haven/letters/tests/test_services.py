"""Messages left for later: leaving one, coming back with the code, answering it, purging."""

from __future__ import annotations

import pytest

from haven.audit.models import AuditEntry
from haven.cases.models import ReturnCode
from haven.chat.services import MessageInvalid, NotFound, Refused
from haven.letters import selectors, services
from haven.letters.models import Letter, LetterEntry

pytestmark = pytest.mark.django_db

TEXT = "Synthetic test message: I would like to talk, but not now."


def test_leaving_a_message_gives_a_code_that_is_stored_only_as_a_hash(clock) -> None:  # type: ignore[no-untyped-def]
    """The phrase is returned once; the database holds its keyed hash and the encrypted
    words, neither the phrase nor the text in the clear."""
    left = services.letter_leave(text=TEXT, language="nl")
    assert len(left.code.split("-")) == 4
    code = ReturnCode.objects.get(case=left.letter.case)
    assert left.code not in code.code_hash
    assert left.letter.awaiting_reply and left.letter.last_seq == 1
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM letters_letterentry")
        (stored,) = cursor.fetchone()
    assert "Synthetic" not in stored


def test_the_code_opens_the_letter_on_any_device_and_shows_the_answer(clock, counsellor) -> None:  # type: ignore[no-untyped-def]
    """Typed again with other capitals and spaces: the same letter, with the answer."""
    left = services.letter_leave(text=TEXT, language="nl")
    clock.advance(hours=20)
    services.letter_reply(actor=counsellor, letter_id=left.letter.id, text="Fijn dat je schreef.")
    typed = "  " + left.code.replace("-", " ").upper() + " "
    thread = services.letter_open_by_code(phrase=typed, source="src-a")
    assert [(e["sender"], e["text"]) for e in thread["entries"]] == [
        ("visitor", TEXT),
        ("counsellor", "Fijn dat je schreef."),
    ]
    assert not thread["awaiting_reply"]
    assert selectors.entries(left.letter)[1].author == counsellor


def test_writing_again_makes_the_letter_wait_for_an_answer_again(clock, counsellor) -> None:  # type: ignore[no-untyped-def]
    left = services.letter_leave(text=TEXT, language="nl")
    services.letter_reply(actor=counsellor, letter_id=left.letter.id, text="Dank je.")
    assert selectors.awaiting_count() == 0
    thread = services.letter_add(phrase=left.code, text="Nog iets.", source="src-a")
    assert thread["awaiting_reply"] and len(thread["entries"]) == 3
    assert selectors.awaiting_count() == 1
    assert [e.seq for e in selectors.entries(Letter.objects.get())] == [1, 2, 3]


def test_a_wrong_code_and_a_code_without_a_letter_get_the_same_words(clock) -> None:  # type: ignore[no-untyped-def]
    """Nothing tells which part was wrong."""
    from haven.cases.services import return_code_issue
    from haven.chat import services as chat_services

    conversation, _token = chat_services.conversation_start(language="nl")
    chat_code = return_code_issue(conversation_id=conversation.id)  # a chat's code: no letter
    refusals = []
    for phrase in ("aap-beer-kat-vis", "not a code", chat_code):
        with pytest.raises(services.CodeRefused) as refused:
            services.letter_open_by_code(phrase=phrase, source="src-a")
        refusals.append(refused.value.message)
    assert len(set(refusals)) == 1


def test_tries_with_a_code_are_limited_per_source(clock, settings) -> None:  # type: ignore[no-untyped-def]
    """After the limit even the right code is refused from that source for the hour;
    another source is not held up."""
    settings.HAVEN_RETURN_CODE_ATTEMPTS_PER_SOURCE = 3
    left = services.letter_leave(text=TEXT, language="nl")
    for _ in range(3):
        with pytest.raises(services.CodeRefused):
            services.letter_open_by_code(phrase="aap-beer-kat-vis", source="guesser")
    with pytest.raises(services.CodeRefused):
        services.letter_open_by_code(phrase=left.code, source="guesser")
    assert services.letter_open_by_code(phrase=left.code, source="other")["entries"]
    clock.advance(hours=1, seconds=1)
    assert services.letter_open_by_code(phrase=left.code, source="guesser")["entries"]


def test_codes_typed_in_a_chat_and_for_a_letter_share_one_count(clock, settings) -> None:  # type: ignore[no-untyped-def]
    """A source does not get twice the tries by guessing in both places."""
    from haven.cases.services import ReturnCodeRefused, return_code_use
    from haven.chat import services as chat_services

    settings.HAVEN_RETURN_CODE_ATTEMPTS_PER_SOURCE = 3
    left = services.letter_leave(text=TEXT, language="nl")
    conversation, _token = chat_services.conversation_start(language="nl")
    for _ in range(3):
        with pytest.raises(ReturnCodeRefused):
            return_code_use(conversation_id=conversation.id, phrase="aap-beer-kat-vis", source="g")
    with pytest.raises(services.CodeRefused):
        services.letter_open_by_code(phrase=left.code, source="g")


def test_many_wrong_codes_from_anywhere_close_reading_for_the_hour(clock, settings, caplog) -> None:  # type: ignore[no-untyped-def]
    """Guessing from many addresses at once: after the helpline-wide number of wrong codes
    even a right code is refused until the hour has passed, and it is logged once."""
    settings.HAVEN_LETTER_CODE_FAILURES_PER_HOUR = 4
    left = services.letter_leave(text=TEXT, language="nl")
    for n in range(4):
        with pytest.raises(services.CodeRefused):
            services.letter_open_by_code(phrase="aap-beer-kat-vis", source=f"address-{n}")
    with pytest.raises(services.CodeRefused):
        services.letter_open_by_code(phrase=left.code, source="the-visitor")
    assert len([r for r in caplog.records if "Many wrong codes" in r.getMessage()]) == 1
    clock.advance(hours=1, seconds=1)
    assert services.letter_open_by_code(phrase=left.code, source="the-visitor")["entries"]


def test_a_blocked_source_can_neither_read_nor_add(clock) -> None:  # type: ignore[no-untyped-def]
    from haven.core import abuse

    left = services.letter_leave(text=TEXT, language="nl")
    abuse.mark("blocked-source", "blocked", seconds=60)
    with pytest.raises(services.CodeRefused):
        services.letter_open_by_code(phrase=left.code, source="blocked")
    with pytest.raises(Refused):
        services.letter_add(phrase=left.code, text="meer", source="blocked")


def test_the_same_message_sent_again_is_stored_once_with_a_new_code(clock) -> None:  # type: ignore[no-untyped-def]
    """The page's answer was lost and it sends again (same client id): one letter, and a
    second code for it that works as well as the first (which was never seen)."""
    first = services.letter_leave(text=TEXT, language="nl", client_id="page-1")
    again = services.letter_leave(text=TEXT, language="nl", client_id="page-1")
    assert again.letter.pk == first.letter.pk and again.code != first.code
    assert Letter.objects.count() == 1 and LetterEntry.objects.count() == 1
    assert services.letter_open_by_code(phrase=again.code)["entries"][0]["text"] == TEXT
    other = services.letter_leave(text=TEXT, language="nl", client_id="page-2")
    assert other.letter.pk != first.letter.pk


def test_an_answer_to_an_older_state_of_the_letter_is_not_stored(clock, counsellor) -> None:  # type: ignore[no-untyped-def]
    """The visitor wrote again, or the same answer was sent twice: refused, read it first."""
    left = services.letter_leave(text=TEXT, language="nl")
    services.letter_reply(actor=counsellor, letter_id=left.letter.id, text="Eén", seen_seq=1)
    with pytest.raises(services.LetterChanged):
        services.letter_reply(actor=counsellor, letter_id=left.letter.id, text="Eén", seen_seq=1)
    assert LetterEntry.objects.filter(sender="counsellor").count() == 1


def test_a_source_may_leave_a_few_messages_an_hour_and_a_blocked_one_none(clock, settings) -> None:  # type: ignore[no-untyped-def]
    from haven.core import abuse

    settings.HAVEN_LETTERS_PER_SOURCE_PER_HOUR = 2
    services.letter_leave(text=TEXT, language="nl", source="busy")
    services.letter_leave(text=TEXT, language="nl", source="busy")
    with pytest.raises(Refused):
        services.letter_leave(text=TEXT, language="nl", source="busy")
    abuse.mark("blocked-source", "blocked", seconds=60)
    with pytest.raises(Refused):
        services.letter_leave(text=TEXT, language="nl", source="blocked")
    assert Letter.objects.count() == 2


def test_empty_or_too_long_text_is_refused_and_nothing_is_stored(clock, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HAVEN_MAX_LETTER_LENGTH = 20
    for text in ("   ", "\u0000\u0001", "x" * 21):
        with pytest.raises(MessageInvalid):
            services.letter_leave(text=text, language="nl")
    assert (Letter.objects.count(), ReturnCode.objects.count()) == (0, 0)


def test_only_console_users_answer_and_each_read_and_answer_is_audited(  # type: ignore[no-untyped-def]
    clock, counsellor, make_staff
) -> None:
    left = services.letter_leave(text=TEXT, language="nl")
    analyst = make_staff("ana", "analyst")
    with pytest.raises(NotFound):
        services.letter_reply(actor=analyst, letter_id=left.letter.id, text="Hallo")
    with pytest.raises(NotFound):
        services.letter_read(actor=analyst, letter_id=left.letter.id)
    services.letter_read(actor=counsellor, letter_id=left.letter.id)
    services.letter_reply(actor=counsellor, letter_id=left.letter.id, text="Hallo")
    actions = list(AuditEntry.objects.order_by("id").values_list("action", "actor_name"))
    assert actions[-2:] == [("letter.read", "anna"), ("letter.reply", "anna")]
    # The audit holds no words.
    assert "Hallo" not in str(list(AuditEntry.objects.values_list("detail", flat=True)))


def test_consoles_are_told_how_many_letters_wait_after_each_change(  # type: ignore[no-untyped-def]
    clock, counsellor, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from haven.core import broadcast

    told: list[tuple[str, dict]] = []
    monkeypatch.setattr(
        broadcast, "publish", lambda group, message, **kw: told.append((group, message["event"]))
    )
    with django_capture_on_commit_callbacks(execute=True):
        left = services.letter_leave(text=TEXT, language="nl")
    with django_capture_on_commit_callbacks(execute=True):
        services.letter_reply(actor=counsellor, letter_id=left.letter.id, text="Hallo")
    assert told == [
        ("console.queue", {"type": "letters", "awaiting": 1}),
        ("console.queue", {"type": "letters", "awaiting": 0}),
    ]


def test_the_words_are_deleted_after_the_retention_period(clock, settings, counsellor) -> None:  # type: ignore[no-untyped-def]
    """Counted from the last entry: a letter written in lately stays; the row stays,
    wordless, and its code no longer opens anything."""
    settings.HAVEN_TRANSCRIPT_RETENTION_DAYS = 30
    old = services.letter_leave(text=TEXT, language="nl")
    clock.advance(days=20)
    recent = services.letter_leave(text=TEXT, language="nl")
    clock.advance(days=11)
    result = services.letters_purge()
    assert (result.letters, result.entries) == (1, 1)
    assert LetterEntry.objects.filter(letter=old.letter).count() == 0
    assert LetterEntry.objects.filter(letter=recent.letter).count() == 1
    assert Letter.objects.get(pk=old.letter.pk).purged_at is not None
    assert selectors.awaiting_count() == 1
    with pytest.raises(services.CodeRefused):
        services.letter_open_by_code(phrase=old.code)
    assert services.letters_purge().letters == 0  # idempotent


def test_a_code_from_a_letter_links_a_later_chat_to_the_same_case(clock) -> None:  # type: ignore[no-untyped-def]
    """Typed in a chat, the letter's code says this visitor wrote before."""
    from haven.cases.services import return_code_use
    from haven.chat import services as chat_services

    left = services.letter_leave(text=TEXT, language="nl")
    conversation, _token = chat_services.conversation_start(language="nl")
    case = return_code_use(conversation_id=conversation.id, phrase=left.code)
    assert case.pk == left.letter.case_id
