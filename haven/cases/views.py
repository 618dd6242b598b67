"""Pages for coding conversations into cases: the overview, the coding form with the
transcript and its holds, a supervisor's review, and import and export.

Everything here lives under /console/, so the staff middleware has already required the
second factor. Views read through selectors and write through services, which check
permissions again; a missing and a forbidden object both answer 404, so a page never tells
whether something exists.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from haven.accounts.permissions import can
from haven.accounts.roles import Action
from haven.audit.models import AuditEntry
from haven.cases import codebook, selectors, services
from haven.cases.exchange import ImportRefused
from haven.cases.forms import CodingForm, ImportForm, changes, fresh_values, summary
from haven.cases.models import Case
from haven.chat import selectors as chat_selectors
from haven.chat import services as chat_services
from haven.chat.models import Conversation, Message, TranscriptHold
from haven.chat.services import ChatError, NotFound
from haven.core import clock
from haven.core.i18n import language_switch

# The most cases the review list shows at once (the oldest first); the rest follow as those
# are reviewed.
REVIEW_LIST_LIMIT = 100

EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json; charset=utf-8"}


# --- shared ---------------------------------------------------------------------------------


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """Render a cases page with the staff header (chat/staff_base.html)."""
    return render(request, template, {"other_language": language_switch(request), **context})


def _codable(actor: Any, conversation_id: uuid.UUID) -> Conversation:
    """The conversation if ``actor`` may code it (its counsellor, or a supervisor), else
    404. The services check the same again before every write."""
    conversation = chat_selectors.access_conversation(actor, conversation_id)
    if conversation is None or not selectors.may_code(actor, conversation):
        raise Http404
    return conversation


def _short(conversation: Conversation) -> str:
    """The conversation's name as the console gives it, its number of the day, with the day
    ("12, 7 Dec"): on these pages conversations of many days meet. Older conversations,
    from before numbers were given, keep the start of their id."""
    if not conversation.day_number:
        return str(conversation.id)[:6]
    day = date_format(timezone.localtime(conversation.created_at), "j M")
    return f"{conversation.day_number}, {day}"


def _clock_time(moment: dt.datetime) -> str:
    return time_format(timezone.localtime(moment), "H:i")


# --- overview -------------------------------------------------------------------------------


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """What is still to code (oldest first) and, for supervisors, what is still to review."""
    if not can(request.user, Action.USE_CONSOLE):
        raise Http404
    still = list(selectors.still_to_code(request.user))
    review = selectors.to_review(request.user)
    return _page(
        request,
        "cases/overview.html",
        {
            "still_to_code": [
                {"conversation": conversation, "short": _short(conversation)}
                for conversation in still
            ],
            "to_review": list(review[:REVIEW_LIST_LIMIT]),
            "to_review_count": review.count(),
            "review_limit": REVIEW_LIST_LIMIT,
        },
    )


@login_required
@require_GET
def still_to_code_count(request: HttpRequest) -> JsonResponse:
    """For the console's header link: how many conversations wait to be coded."""
    if not can(request.user, Action.USE_CONSOLE):
        raise Http404
    return JsonResponse({"still_to_code": selectors.still_to_code(request.user).count()})


# --- coding a conversation ------------------------------------------------------------------


@dataclass(frozen=True)
class TranscriptLine:
    seq: int
    who: str
    text: str
    at: dt.datetime | None
    system: bool
    mine: bool


def _transcript(request: HttpRequest, conversation: Conversation) -> list[TranscriptLine] | None:
    """The transcript, read through the service that audits every read; ``None`` once the
    retention job has deleted it."""
    if conversation.purged_at is not None:
        return None
    try:
        _conversation, payloads = chat_services.conversation_open(
            actor=request.user, conversation_id=conversation.id, last_seq=0
        )
    except NotFound:
        raise Http404 from None
    ended: str = {
        str(Conversation.Party.VISITOR): _("The visitor ended the conversation."),
        str(Conversation.Party.COUNSELLOR): _("The counsellor ended the conversation."),
    }.get(conversation.ended_by, _("The conversation ended."))
    system: dict[str, str] = {
        Message.Kind.JOINED: _("The counsellor accepted the conversation."),
        Message.Kind.ENDED: ended,
        Message.Kind.QUICK_EXIT: _("The visitor left quickly (the quick exit)."),
        Message.Kind.RETURNED: _("Returning visitor: they gave a valid return code."),
        Message.Kind.TRANSFERRED: _("The conversation was transferred to a colleague."),
        Message.Kind.REQUEUED: _("The conversation was put back in the queue."),
    }
    lines = []
    for payload in payloads:
        at = dt.datetime.fromisoformat(payload["sent_at"]) if payload.get("sent_at") else None
        if payload["sender"] == Message.Sender.SYSTEM:
            lines.append(
                TranscriptLine(payload["seq"], "", system.get(payload["kind"], ""), at, True, False)
            )
            continue
        counsellor = payload["sender"] == Message.Sender.COUNSELLOR
        lines.append(
            TranscriptLine(
                payload["seq"],
                _("Counsellor") if counsellor else _("Visitor"),
                payload["text"],
                at,
                False,
                counsellor,
            )
        )
    return lines


def _initial_values(conversation: Conversation) -> dict[str, Any]:
    """What the form shows first: the draft if there is one (the newest work: it is deleted
    whenever the conversation is coded), else the case's current answers (a returning
    visitor, or coding again), else the codebook's defaults."""
    draft = selectors.draft_for(conversation)
    if draft:
        return {**fresh_values(), **draft}
    case = conversation.case
    if case is not None and case.is_coded:
        return case.answers()
    return fresh_values()


def _render_coding(
    request: HttpRequest, conversation: Conversation, form: CodingForm
) -> HttpResponse:
    now = clock.now()
    holds = [
        hold
        for hold in TranscriptHold.objects.filter(
            conversation=conversation, released_at__isnull=True
        )
        .select_related("placed_by")
        .order_by("expires_at")
        if hold.is_active(now)
    ]
    deleted_on = None
    if conversation.ended_at is not None and conversation.purged_at is None:
        deleted_on = conversation.ended_at + dt.timedelta(
            days=settings.HAVEN_TRANSCRIPT_RETENTION_DAYS
        )
    case = conversation.case
    record = summary(case.answers()) if case is not None and case.is_coded else None
    return _page(
        request,
        "cases/coding.html",
        {
            "conversation": conversation,
            "short": _short(conversation),
            "form": form,
            "transcript": _transcript(request, conversation),
            "deleted_on": deleted_on,
            "retention_days": settings.HAVEN_TRANSCRIPT_RETENTION_DAYS,
            "holds": holds,
            "hold_days": settings.HAVEN_HOLD_DAYS,
            "hold_max_days": settings.HAVEN_HOLD_MAX_DAYS,
            "case": case,
            "record": record,
            "draft_url": reverse("cases:draft", args=[conversation.id]),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def conversation_coding(request: HttpRequest, conversation_id: uuid.UUID) -> HttpResponse:
    """The coding form beside the transcript. POST with ``action=draft`` keeps the form as
    a draft (what the script does by itself); any other POST finishes the coding."""
    conversation = _codable(request.user, conversation_id)
    if request.method != "POST":
        return _render_coding(request, conversation, CodingForm(_initial_values(conversation)))
    form = CodingForm.from_data(request.POST)
    try:
        if request.POST.get("action") == "draft":
            draft = services.coding_draft_save(
                actor=request.user, conversation_id=conversation.id, data=form.answers()
            )
            messages.success(
                request, _("Draft saved at %(time)s.") % {"time": _clock_time(draft.updated_at)}
            )
            return redirect("cases:conversation", conversation_id=conversation.id)
        case = services.conversation_code(
            actor=request.user, conversation_id=conversation.id, answers=form.answers()
        )
    except codebook.Invalid as invalid:
        return _render_coding(request, conversation, form.with_errors(invalid))
    except NotFound:
        raise Http404 from None
    messages.success(
        request,
        _("Conversation %(short)s is coded (case %(reference)s).")
        % {"short": _short(conversation), "reference": case.reference},
    )
    return redirect("cases:overview")


@login_required
@require_POST
def draft_save(request: HttpRequest, conversation_id: uuid.UUID) -> JsonResponse:
    """The script's autosave: keep the form as a draft and say when."""
    conversation = _codable(request.user, conversation_id)
    try:
        draft = services.coding_draft_save(
            actor=request.user,
            conversation_id=conversation.id,
            data=CodingForm.from_data(request.POST).answers(),
        )
    except NotFound:
        raise Http404 from None
    return JsonResponse(
        {
            "saved_at": draft.updated_at.isoformat(),
            "text": _("Draft saved at %(time)s.") % {"time": _clock_time(draft.updated_at)},
        }
    )


# --- holds ----------------------------------------------------------------------------------


@login_required
@require_POST
def hold_place(request: HttpRequest, conversation_id: uuid.UUID) -> HttpResponse:
    conversation = _codable(request.user, conversation_id)
    back = reverse("cases:conversation", args=[conversation.id]) + "#holds"
    days_text = (request.POST.get("days") or "").strip()
    try:
        days = int(days_text) if days_text else None
    except ValueError:
        messages.error(request, _("Enter the number of days as a whole number."))
        return HttpResponseRedirect(back)
    try:
        hold = chat_services.transcript_hold_place(
            actor=request.user,
            conversation_id=conversation.id,
            reason=request.POST.get("reason", ""),
            days=days,
        )
    except NotFound:
        raise Http404 from None
    except ChatError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("The transcript is kept until %(date)s.")
            % {"date": date_format(timezone.localtime(hold.expires_at), "DATE_FORMAT")},
        )
    return HttpResponseRedirect(back)


@login_required
@require_POST
def hold_release(request: HttpRequest, hold_id: int) -> HttpResponse:
    try:
        hold = chat_services.transcript_hold_release(actor=request.user, hold_id=hold_id)
    except NotFound:
        raise Http404 from None
    messages.success(
        request,
        _("The hold was released. The transcript is deleted when its period has passed."),
    )
    return HttpResponseRedirect(
        reverse("cases:conversation", args=[hold.conversation_id]) + "#holds"
    )


# --- one case -------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    at: dt.datetime
    who: str
    action: str
    changes: list[Any]
    detail: dict[str, Any]


def _action_label(action: str) -> str:
    return {
        "case.code": _("Coded"),
        "case.update": _("Coded again from a conversation"),
        "case.correct": _("Corrected by a supervisor"),
    }.get(action, action)


def _history(case: Case) -> list[HistoryEntry]:
    entries = AuditEntry.objects.filter(target_type="case", target_id=str(case.id)).order_by(
        "at", "id"
    )
    return [
        HistoryEntry(
            at=entry.at,
            who=entry.actor_name,
            action=_action_label(entry.action),
            changes=changes(entry.detail),
            detail=entry.detail,
        )
        for entry in entries
    ]


@login_required
@require_http_methods(["GET", "POST"])
def case_detail(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """A coded case: editable by a supervisor (saving marks it reviewed), read-only for a
    counsellor who counselled one of its conversations, with the history of its changes."""
    case = selectors.access_case(request.user, case_id)
    if case is None:
        raise Http404
    may_correct = can(request.user, Action.REVIEW_CASES) and case.is_coded
    form = CodingForm(case.answers()) if may_correct else None
    if request.method == "POST":
        if not may_correct:
            raise Http404
        form = CodingForm.from_data(request.POST)
        try:
            services.case_correct(
                actor=request.user, case_id=case.id, answers=form.answers(), reviewed=True
            )
        except codebook.Invalid as invalid:
            form = form.with_errors(invalid)
        except NotFound:
            raise Http404 from None
        else:
            messages.success(
                request,
                _("Case %(reference)s is saved and marked reviewed.")
                % {"reference": case.reference},
            )
            return redirect("cases:case", case_id=case.id)
    conversations = [
        {"conversation": conversation, "short": _short(conversation)}
        for conversation in case.conversations.order_by("created_at")
    ]
    return _page(
        request,
        "cases/case.html",
        {
            "case": case,
            "form": form,
            "record": summary(case.answers()) if case.is_coded else None,
            "history": _history(case),
            "conversations": conversations,
        },
    )


# --- export and import ----------------------------------------------------------------------


@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """What an export holds, and the downloads (``?format=csv`` or ``?format=json``)."""
    if not can(request.user, Action.EXPORT_CASES):
        raise Http404
    fmt = request.GET.get("format")
    if fmt is None:
        return _page(request, "cases/export.html", {})
    if fmt not in EXPORT_TYPES:
        raise Http404
    chunks = iter(services.cases_export(actor=request.user, fmt=fmt))
    try:
        # The first chunk is taken now, so that a refusal is a 404 and not a broken
        # download, and the export is audited before anything is sent.
        first = next(chunks, "")
    except NotFound:
        raise Http404 from None
    response = StreamingHttpResponse(
        itertools.chain([first], chunks), content_type=EXPORT_TYPES[fmt]
    )
    day = timezone.localdate(clock.now()).isoformat()
    response["Content-Disposition"] = f'attachment; filename="haven-cases-{day}.{fmt}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def import_cases(request: HttpRequest) -> HttpResponse:
    """Upload a file of coded cases. Every row is checked first; one bad row and nothing is
    imported, and each bad row is listed with its line number and the reason."""
    if not can(request.user, Action.IMPORT_CASES):
        raise Http404
    problems: list[str] = []
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                imported = services.cases_import_file(
                    actor=request.user,
                    data=upload.read(),
                    fmt=form.cleaned_data["format"],
                    filename=upload.name or "",
                )
            except ImportRefused as refused:
                problems = [_row_error_text(error) for error in refused.errors]
            except NotFound:
                raise Http404 from None
            else:
                messages.success(
                    request,
                    ngettext(
                        "%(count)s case was imported.",
                        "%(count)s cases were imported.",
                        len(imported),
                    )
                    % {"count": len(imported)},
                )
                return redirect("cases:import")
    else:
        form = ImportForm()
    return _page(
        request,
        "cases/import.html",
        {"form": form, "problems": problems},
    )


def _row_error_text(error: Any) -> str:
    reason = _(error.message) % dict(error.params or {})
    if error.line and error.column:
        return _("Line %(line)s, column %(column)s: %(reason)s") % {
            "line": error.line,
            "column": error.column,
            "reason": reason,
        }
    if error.line:
        return _("Line %(line)s: %(reason)s") % {"line": error.line, "reason": reason}
    return reason
