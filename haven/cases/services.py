"""Every write to coded cases: coding, drafts, review, return codes, import (and export).

Each service runs in one transaction, checks permissions itself (it must be safe to call
from anywhere) and writes an audit entry for every change to a coded case, with the codes
before and after. Codes are anonymous, so the audit log may hold them; it never holds text.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from haven.accounts.permissions import can
from haven.accounts.roles import Action
from haven.audit.services import audit_record
from haven.cases import codebook, exchange, returncodes, selectors
from haven.cases.models import Case, CaseContact, CodingDraft, ReturnCode
from haven.chat import selectors as chat_selectors
from haven.chat.models import Conversation
from haven.chat.services import (
    ChatError,
    ConversationClosed,
    NotFound,
    conversation_mark_returning,
)
from haven.core import abuse, clock, crypto


class ReturnCodeRefused(ChatError):
    """Any problem with a return code. One calm message for every cause, so that a wrong,
    expired or used-up code reveals nothing (not even that a code once existed)."""

    code = "return_code_invalid"


class CodingLimit(ChatError):
    code = "rate_limited"


# --- coding ------------------------------------------------------------------------------


def _codable_conversation(actor: Any, conversation_id: uuid.UUID | str) -> Conversation:
    """The conversation if ``actor`` may code it: its counsellor, or a supervisor (also
    one nobody answered, once it has ended: see ``selectors.still_to_code``)."""
    conversation = chat_selectors.access_conversation(actor, conversation_id)
    if conversation is None or not selectors.may_code(actor, conversation):
        raise NotFound(_("This conversation was not found."))
    return conversation


def _changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Question -> [old, new] for each answer that changed (JSON-friendly)."""

    def plain(value: Any) -> Any:
        return list(value) if isinstance(value, tuple) else value

    return {
        name: [plain(before.get(name)), plain(after[name])]
        for name in codebook.NAMES
        if before.get(name) != after[name]
    }


@transaction.atomic
def conversation_code(
    *, actor: Any, conversation_id: uuid.UUID | str, answers: Mapping[str, Any]
) -> Case:
    """Code a conversation into its case: create the case, or update the one it belongs to
    (a returning visitor's). Allowed while the chat runs and after it ended; coding again
    corrects. Raises :class:`codebook.Invalid` with every problem when the answers break
    the codebook, and changes nothing then.
    """
    conversation = _codable_conversation(actor, conversation_id)
    record = codebook.validate(answers)
    now = clock.now()
    case = conversation.case
    if case is None:
        case = Case(created_at=now)
    else:
        case = Case.objects.select_for_update().get(pk=case.pk)
    before = case.answers() if case.is_coded else {}
    first_time = not case.is_coded
    case.set_answers(record)
    case.codebook_version = codebook.VERSION
    if first_time:
        case.coded_at = now
        case.coded_by = actor
    case.save()
    if conversation.case_id != case.id or conversation.coded_at is None:
        conversation.case = case
        conversation.coded_at = conversation.coded_at or now
        conversation.save(update_fields=["case", "coded_at"])
    CaseContact.objects.update_or_create(
        conversation=conversation,
        defaults={"case": case, "on": conversation.created_at.date()},
    )
    CodingDraft.objects.filter(conversation=conversation).delete()
    audit_record(
        actor=actor,
        action="case.code" if first_time else "case.update",
        target_type="case",
        target_id=case.id,
        detail={"conversation": str(conversation.id), "changes": _changes(before, record)},
    )
    return case


@transaction.atomic
def coding_draft_save(
    *, actor: Any, conversation_id: uuid.UUID | str, data: Mapping[str, Any]
) -> CodingDraft:
    """Keep the form as it is, unvalidated. Only codebook questions are kept, and only as
    short strings or lists of them, so a draft can never carry free text."""
    conversation = _codable_conversation(actor, conversation_id)
    kept: dict[str, Any] = {}
    for name in codebook.NAMES:
        if name not in data:
            continue
        value = data[name]
        if isinstance(value, (list, tuple)):
            kept[name] = [str(item)[:32] for item in value][:32]
        elif value is None:
            kept[name] = ""
        else:
            kept[name] = str(value)[:32]
    draft, _created = CodingDraft.objects.update_or_create(
        conversation=conversation,
        defaults={"data": kept, "updated_at": clock.now(), "updated_by": actor},
    )
    return draft


@transaction.atomic
def case_correct(
    *, actor: Any, case_id: uuid.UUID | str, answers: Mapping[str, Any], reviewed: bool = True
) -> Case:
    """A supervisor corrects a coded case (and, by default, marks it reviewed). Every
    change is audited with the codes before and after."""
    if not can(actor, Action.REVIEW_CASES):
        raise NotFound(_("This case was not found."))
    found = selectors.access_case(actor, case_id)
    if found is None or not found.is_coded:
        raise NotFound(_("This case was not found."))
    record = codebook.validate(answers)
    case = Case.objects.select_for_update().get(pk=found.pk)
    before = case.answers()
    case.set_answers(record)
    case.codebook_version = codebook.VERSION
    if reviewed:
        case.reviewed_at = clock.now()
        case.reviewed_by = actor
    case.save()
    audit_record(
        actor=actor,
        action="case.correct",
        target_type="case",
        target_id=case.id,
        detail={"changes": _changes(before, record), "reviewed": reviewed},
    )
    return case


# --- return codes -------------------------------------------------------------------------


def _return_code_key() -> bytes:
    """The HMAC key for return codes, derived from the secret key: changing the secret key
    makes every return code stop working (said in the README)."""
    return crypto.secret_subkey("return codes")


@transaction.atomic
def return_code_issue(*, conversation_id: uuid.UUID) -> str:
    """Give the visitor of a running conversation a new return code; return the phrase.

    The phrase is returned once and never stored: only its keyed hash is. The conversation
    gets a case now if it has none (not coded yet, so not counted until a counsellor codes
    it), and the code points at that case.
    """
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    if conversation.status == Conversation.Status.ENDED:
        raise ConversationClosed(_("This chat has ended."))
    now = clock.now()
    case = conversation.case
    if case is None:
        case = Case.objects.create(created_at=now)
        conversation.case = case
        conversation.save(update_fields=["case"])
    return return_code_create(case=case)


@transaction.atomic
def return_code_create(*, case: Case) -> str:
    """A new return code pointing at ``case``; return its phrase (shown once, never stored:
    only its keyed hash is)."""
    now = clock.now()
    key = _return_code_key()
    while True:
        phrase = returncodes.generate()
        code_hash = returncodes.digest(phrase, key=key)
        if not ReturnCode.objects.filter(code_hash=code_hash).exists():
            break
    ReturnCode.objects.create(
        case=case,
        code_hash=code_hash,
        created_at=now,
        expires_at=now + dt.timedelta(days=settings.HAVEN_RETURN_CODE_DAYS),
    )
    return phrase


def return_code_case(*, phrase: str) -> Case | None:
    """The case of a valid, unexpired return code, or None (a read: the caller limits how
    often a visitor may try, and says the same for every kind of failure)."""
    normalised = returncodes.normalise(phrase)
    if not returncodes.looks_valid(normalised):
        return None
    code = ReturnCode.objects.filter(
        code_hash=returncodes.digest(normalised, key=_return_code_key())
    ).first()
    if code is None or code.expires_at <= clock.now():
        return None
    return code.case


@transaction.atomic
def return_code_use(*, conversation_id: uuid.UUID, phrase: str, source: str | None = None) -> Case:
    """Link a running conversation to the case of the return code the visitor typed.

    A wrong, expired or malformed code, too many tries, or a conversation that already
    belongs to another case: all give :class:`ReturnCodeRefused` with the same words.
    Tries are counted per conversation and per hashed source, so guessing is slow.
    """
    refused = ReturnCodeRefused(
        _("This code does not work. Check the words, or just start telling your story.")
    )
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    if conversation.status == Conversation.Status.ENDED:
        raise ConversationClosed(_("This chat has ended."))
    tries = abuse.hit("return-code-conversation", str(conversation.id), window=24 * 3600)
    if tries > settings.HAVEN_RETURN_CODE_ATTEMPTS:
        raise refused
    if source is not None:
        per_source = abuse.hit("return-code-source", source, window=3600)
        if per_source > settings.HAVEN_RETURN_CODE_ATTEMPTS_PER_SOURCE:
            raise refused
    normalised = returncodes.normalise(phrase)
    if not returncodes.looks_valid(normalised):
        raise refused
    now = clock.now()
    code = (
        ReturnCode.objects.select_for_update()
        .filter(code_hash=returncodes.digest(normalised, key=_return_code_key()))
        .first()
    )
    if code is None or code.expires_at <= now:
        raise refused
    case = Case.objects.select_for_update().get(pk=code.case_id)
    current = conversation.case
    if current is not None and current.pk != case.pk:
        # The visitor asked for a code in this chat before typing the old one. That fresh
        # case holds nothing yet, so it is folded into the old case; a coded case, or one
        # with a message left for later, is never merged silently.
        if (
            current.is_coded
            or current.conversations.exclude(pk=conversation.pk).exists()
            or current.letters.exists()  # type: ignore[attr-defined]
        ):
            raise refused
        ReturnCode.objects.filter(case=current).update(case=case)
        conversation.case = case
        conversation.save(update_fields=["case"])
        current.delete()
    elif current is None:
        conversation.case = case
        conversation.save(update_fields=["case"])
    code.last_used_at = now
    code.expires_at = now + dt.timedelta(days=settings.HAVEN_RETURN_CODE_DAYS)
    code.save(update_fields=["last_used_at", "expires_at"])
    conversation_mark_returning(conversation_id=conversation.id, case_id=case.id)
    return case


# --- import and export --------------------------------------------------------------------

# Cases per database query when exporting, and ids per query when checking an import: both
# stay far below every database's limit on query parameters and keep memory flat.
_BATCH = 1000


@transaction.atomic
def cases_import_file(*, actor: Any, data: bytes, fmt: str, filename: str = "") -> list[Case]:
    """Import coded cases from a CSV or JSON file (format in haven/cases/exchange.py and
    docs/codebook.md), all or nothing.

    Every row is checked; a row whose case id is already in Haven, or repeats in the file,
    is refused too. Raises :class:`exchange.ImportRefused` listing every bad row, and then
    imports nothing. Supervisors only (``NotFound`` for anyone else, who learns nothing
    about the file).
    """
    if not can(actor, Action.IMPORT_CASES):
        raise NotFound(_("This page was not found."))
    now = clock.now()
    rows = exchange.parse(data, fmt, existing=_existing_case_ids, today=now.date())
    created: list[Case] = []
    for row in rows:
        case = Case(
            id=row.case_id or uuid.uuid4(),
            created_at=now,
            # The version the row was coded under: a question added later was never asked.
            codebook_version=row.codebook_version,
            coded_at=now,
            coded_by=actor,
            imported=True,
            reviewed_at=now if row.reviewed else None,
            reviewed_by=actor if row.reviewed else None,
        )
        case.set_answers(dict(row.record))
        created.append(case)
    # Rows per INSERT such that the query parameters stay under PostgreSQL's 65535, however
    # many answer columns the codebook grows.
    rows_per_insert = max(1, min(_BATCH, 30000 // len(Case._meta.concrete_fields)))
    Case.objects.bulk_create(created, batch_size=rows_per_insert)
    CaseContact.objects.bulk_create(
        (
            CaseContact(case=case, on=day)
            for case, row in zip(created, rows, strict=True)
            for day in row.contacts
        ),
        batch_size=_BATCH,
    )
    audit_record(
        actor=actor,
        action="cases.import",
        target_type="case",
        detail={"format": fmt, "rows": len(created), "file": filename[:200]},
    )
    return created


def _existing_case_ids(ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        found.update(Case.objects.filter(pk__in=batch).values_list("pk", flat=True))
    return found


class CasesExport(Iterator[str]):
    """The text chunks of an export, with the number of cases it holds (``rows``)."""

    def __init__(self, chunks: Iterator[str], *, fmt: str, rows: int) -> None:
        self._chunks = chunks
        self.format = fmt
        self.rows = rows

    def __next__(self) -> str:
        return next(self._chunks)


def cases_export(*, actor: Any, fmt: str) -> CasesExport:
    """Export every coded case as CSV or JSON text chunks (see docs/codebook.md).

    Checks the permission and writes the audit entry (format and number of rows) at once,
    when called, before any row is produced; then returns the chunks lazily, reading the
    database in batches so any number of cases streams in constant memory. Only codes,
    months and ids leave: never a transcript, a hold reason or any other text.
    """
    if not can(actor, Action.EXPORT_CASES):
        raise NotFound(_("This page was not found."))
    if fmt not in exchange.FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    # Cases coded after this moment are left out, so the audited count is what is written.
    until = clock.now()
    count = Case.objects.filter(coded_at__isnull=False, coded_at__lte=until).count()
    audit_record(
        actor=actor,
        action="cases.export",
        target_type="case",
        detail={"format": fmt, "rows": count},
    )
    return CasesExport(exchange.write(fmt, _export_rows(until)), fmt=fmt, rows=count)


def _export_rows(until: dt.datetime) -> Iterator[exchange.CaseRow]:
    """Every case coded up to ``until``, in id order, one batch per query (keyset paging:
    no offset, so the millionth case costs what the first did)."""
    answer_fields = [
        field.name for field in Case._meta.concrete_fields if field.name not in _CASE_META
    ]
    last: uuid.UUID | None = None
    while True:
        batch = Case.objects.filter(coded_at__isnull=False, coded_at__lte=until).order_by("pk")
        if last is not None:
            batch = batch.filter(pk__gt=last)
        cases = list(batch.only("id", "codebook_version", "reviewed_at", *answer_fields)[:_BATCH])
        if not cases:
            return
        contacts: dict[uuid.UUID, list[dt.date]] = {}
        for case_id, day in CaseContact.objects.filter(case__in=cases).values_list("case_id", "on"):
            contacts.setdefault(case_id, []).append(day)
        for case in cases:
            yield exchange.CaseRow(
                case_id=case.id,
                codebook_version=case.codebook_version or codebook.VERSION,
                contacts=tuple(sorted(contacts.get(case.id, ()))),
                record=case.answers(),
                reviewed=case.reviewed_at is not None,
            )
        last = cases[-1].pk


_CASE_META = frozenset(
    {"id", "created_at", "codebook_version", "coded_at", "coded_by", "reviewed_at"}
    | {"reviewed_by", "imported"}
)
