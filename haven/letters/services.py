"""Every write of messages left for later (see haven.letters.models).

The visitor is known only by the return code: leaving a letter hands out a new one (shown
once), and reading or adding to it needs that code. Tries with a code are counted per
hashed source, as in a chat, so guessing is slow; a wrong, expired or unknown code and a
code without a letter all get the same words.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from haven.accounts.permissions import can
from haven.accounts.roles import Action
from haven.audit.services import audit_record
from haven.cases import services as case_services
from haven.cases.models import Case
from haven.chat.events import CONSOLE_GROUP, LettersEvent, group_message
from haven.chat.services import ChatError, NotFound, Refused, clean_text, text_refusal
from haven.core import abuse, broadcast, clock
from haven.letters import selectors
from haven.letters.models import Letter, LetterEntry

logger = logging.getLogger(__name__)


class CodeRefused(ChatError):
    code = "code_refused"


def _code_refused() -> CodeRefused:
    return CodeRefused(
        _("We cannot find a message with this code. Check the four words and try again.")
    )


def _checked_text(text: str) -> str:
    cleaned = clean_text(text)
    refusal = text_refusal(cleaned, limit=settings.HAVEN_MAX_LETTER_LENGTH)
    if refusal is not None:
        raise refusal
    return cleaned


def _check_source(source: str | None) -> None:
    """A blocked source may not leave letters either; and not more than a few an hour."""
    if source is None:
        return
    refused = Refused(_("You cannot leave a message right now. Please try again later."))
    if abuse.is_marked("blocked-source", source):
        raise refused
    if abuse.hit("letters", source, window=3600) > settings.HAVEN_LETTERS_PER_SOURCE_PER_HOUR:
        raise refused


def _append(letter: Letter, *, sender: str, text: str, author: Any = None) -> LetterEntry:
    now = clock.now()
    letter.last_seq += 1
    letter.last_at = now
    letter.awaiting_reply = sender == Letter.Sender.VISITOR
    letter.save(update_fields=["last_seq", "last_at", "awaiting_reply"])
    entry = LetterEntry.objects.create(
        letter=letter,
        seq=letter.last_seq,
        sender=sender,
        text=text,
        author=author,
        created_at=now,
    )
    _tell_consoles()
    return entry


def _tell_consoles() -> None:
    """After commit: every console's count of letters waiting for an answer."""
    loop = broadcast.current_loop()

    def send() -> None:
        event: LettersEvent = {"type": "letters", "awaiting": selectors.awaiting_count()}
        broadcast.publish(CONSOLE_GROUP, group_message(event), loop=loop)

    transaction.on_commit(send, robust=True)


@dataclass(frozen=True)
class LeftLetter:
    letter: Letter
    code: str  # the return code's phrase: shown to the visitor once, never stored
    thread: dict[str, Any]  # what the visitor's page shows (selectors.thread)


@transaction.atomic
def letter_leave(
    *, text: str, language: str, client_id: str = "", source: str | None = None
) -> LeftLetter:
    """A visitor leaves a message: a new case (not coded, so not counted until a counsellor
    codes a chat of it), a new return code for it, and the letter.

    ``client_id`` is the page's own id for this message: sent again after a lost answer,
    it finds the letter stored the first time instead of storing it twice, and gives a new
    code for it (the first one was never seen, and is never stored)."""
    cleaned = _checked_text(text)
    if client_id:
        earlier = Letter.objects.filter(client_id=client_id).first()
        if earlier is not None:
            code = case_services.return_code_create(case=earlier.case)
            return LeftLetter(letter=earlier, code=code, thread=selectors.thread(earlier))
    _check_source(source)
    now = clock.now()
    language = language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    case = Case.objects.create(created_at=now)
    code = case_services.return_code_create(case=case)
    letter = Letter.objects.create(
        case=case, language=language, created_at=now, last_at=now, client_id=client_id or None
    )
    _append(letter, sender=Letter.Sender.VISITOR, text=cleaned)
    return LeftLetter(letter=letter, code=code, thread=selectors.thread(letter))


def _letter_for_code(phrase: str, source: str | None, *, lock: bool) -> Letter:
    """The newest letter of the code's case. A code opens the words of a letter, so every
    try counts: per source, in the same hourly count as codes typed in a chat, and every
    failed try in one count for the whole helpline, which shuts the door for the hour when
    someone guesses from many addresses at once. A blocked source gets nothing."""
    if source is not None:
        if abuse.is_marked("blocked-source", source):
            raise _code_refused()
        tries = abuse.hit("return-code-source", source, window=3600)
        if tries > settings.HAVEN_RETURN_CODE_ATTEMPTS_PER_SOURCE:
            raise _code_refused()
    failures_key = ("letter-code-failures", "all")
    if abuse.count(*failures_key, window=3600) >= settings.HAVEN_LETTER_CODE_FAILURES_PER_HOUR:
        raise _code_refused()
    case = case_services.return_code_case(phrase=phrase)
    letters = Letter.objects.filter(case=case, purged_at__isnull=True).order_by("-created_at")
    letter = None if case is None else (letters.select_for_update() if lock else letters).first()
    if letter is None:
        failed = abuse.hit(*failures_key, window=3600)
        if failed == settings.HAVEN_LETTER_CODE_FAILURES_PER_HOUR:
            logger.warning(
                "Many wrong codes for messages left for later this hour (%s): reading them "
                "is closed until the hour has passed",
                failed,
            )
        raise _code_refused()
    return letter


def letter_open_by_code(*, phrase: str, source: str | None = None) -> dict[str, Any]:
    """The visitor comes back with their code: their letter's thread (a read, counted as
    a try with a code; no lock, so that guesses never queue behind anybody's writes)."""
    return selectors.thread(_letter_for_code(phrase, source, lock=False))


@transaction.atomic
def letter_add(*, phrase: str, text: str, source: str | None = None) -> dict[str, Any]:
    """The visitor writes again in their letter (it waits for an answer again)."""
    cleaned = _checked_text(text)
    if source is not None and abuse.is_marked("blocked-source", source):
        raise Refused(_("You cannot leave a message right now. Please try again later."))
    letter = _letter_for_code(phrase, source, lock=True)
    _append(letter, sender=Letter.Sender.VISITOR, text=cleaned)
    return selectors.thread(letter)


class LetterChanged(ChatError):
    code = "changed"


@transaction.atomic
def letter_reply(
    *, actor: Any, letter_id: uuid.UUID, text: str, seen_seq: int | None = None
) -> LetterEntry:
    """A counsellor answers a letter. ``seen_seq``: the last entry the counsellor saw; if
    the letter has more since (the visitor wrote again, a colleague answered, or the same
    form was sent twice), nothing is stored and the counsellor reads it first."""
    if not can(actor, Action.USE_CONSOLE):
        raise NotFound(_("This message was not found."))
    letter = Letter.objects.select_for_update().filter(pk=letter_id, purged_at__isnull=True).first()
    if letter is None:
        raise NotFound(_("This message was not found."))
    if seen_seq is not None and letter.last_seq != seen_seq:
        raise LetterChanged(
            _("Something was written in this message since you opened it. Read it first.")
        )
    entry = _append(letter, sender=Letter.Sender.COUNSELLOR, text=_checked_text(text), author=actor)
    audit_record(actor=actor, action="letter.reply", target_type="letter", target_id=letter.id)
    return entry


@transaction.atomic
def letter_read(*, actor: Any, letter_id: uuid.UUID) -> Letter:
    """A counsellor opens a letter: one audit entry, like opening a transcript."""
    letter = selectors.access_letter(actor, letter_id)
    if letter is None:
        raise NotFound(_("This message was not found."))
    audit_record(actor=actor, action="letter.read", target_type="letter", target_id=letter.id)
    return letter


@dataclass(frozen=True)
class LettersPurgeResult:
    letters: int
    entries: int


def letters_purge(*, retention_days: int | None = None) -> LettersPurgeResult:
    """Delete the words of every letter whose last entry is older than the retention period
    (HAVEN_TRANSCRIPT_RETENTION_DAYS, as transcripts). The letter row stays, wordless; a
    letter still waiting for an answer then no longer does. Each in its own transaction."""
    days = settings.HAVEN_TRANSCRIPT_RETENTION_DAYS if retention_days is None else retention_days
    now = clock.now()
    cutoff = now - dt.timedelta(days=days)
    letters = entries = 0
    due = Letter.objects.filter(purged_at__isnull=True, last_at__lt=cutoff)
    for letter_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            letter = (
                Letter.objects.select_for_update()
                .filter(pk=letter_id, purged_at__isnull=True, last_at__lt=cutoff)
                .first()
            )
            if letter is None:
                continue  # written in since the list was made
            deleted, _by_model = LetterEntry.objects.filter(letter=letter).delete()
            Letter.objects.filter(pk=letter.pk).update(purged_at=now, awaiting_reply=False)
            letters += 1
            entries += deleted
    if letters:
        with transaction.atomic():
            _tell_consoles()
    audit_record(
        actor=None,
        action="letters.purge",
        detail={"retention_days": days, "letters": letters, "entries": entries},
    )
    return LettersPurgeResult(letters=letters, entries=entries)
