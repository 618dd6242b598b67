"""Messages left for later: the visitor's three JSON calls, and the counsellors' pages.

The visitor's calls are made by the visitor page's script (fetch), so the browser history
keeps its one entry and the quick exit still leaves nothing to go back to (see
haven.core.visitor_calls for why they need no CSRF token). The return code is the only key.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from haven.accounts.permissions import can
from haven.accounts.roles import Action
from haven.chat.services import ChatError, NotFound
from haven.core import db
from haven.core.i18n import language_switch
from haven.core.sources import source_of
from haven.core.visitor_calls import answer, text_field
from haven.letters import selectors, services
from haven.letters.forms import ReplyForm
from haven.letters.models import Letter

# --- the visitor ------------------------------------------------------------------------------


@csrf_exempt
@require_POST
async def leave(request: HttpRequest) -> JsonResponse:
    """``{"text", "client_id"}`` → ``{"code", "awaiting_reply", "entries"}``: the code is
    shown once. The same ``client_id`` again (a resend after a lost answer) finds the same
    letter, with a new code."""

    async def run(data: dict[str, Any]) -> dict[str, Any]:
        left = await db.write(
            services.letter_leave,
            text=text_field(data, "text"),
            language=get_language() or "nl",
            client_id=text_field(data, "client_id")[:64],
            source=source_of(request),
        )
        return {"code": left.code, **left.thread}

    return await answer(request, run)


@csrf_exempt
@require_POST
async def read(request: HttpRequest) -> JsonResponse:
    """``{"code"}`` → the letter's entries, with the counsellor's answers (a read: it never
    waits behind anybody's writes)."""
    return await answer(
        request,
        lambda data: db.read(
            services.letter_open_by_code, phrase=text_field(data, "code"), source=source_of(request)
        ),
    )


@csrf_exempt
@require_POST
async def add(request: HttpRequest) -> JsonResponse:
    """``{"code", "text"}`` → the letter's entries, the new one last."""
    return await answer(
        request,
        lambda data: db.write(
            services.letter_add,
            phrase=text_field(data, "code"),
            text=text_field(data, "text"),
            source=source_of(request),
        ),
    )


# --- counsellors ------------------------------------------------------------------------------


def _short(letter: Letter) -> str:
    return str(letter.id)[:6]


def _listed(letters: Any) -> list[dict[str, Any]]:
    return [{"letter": letter, "short": _short(letter)} for letter in letters]


@login_required
@require_GET
def letter_list(request: HttpRequest) -> HttpResponse:
    """The letters waiting for an answer (the longest-waiting first), then those answered
    lately."""
    if not can(request.user, Action.USE_CONSOLE):
        raise Http404
    return render(
        request,
        "letters/list.html",
        {
            "other_language": language_switch(request),
            "awaiting": _listed(selectors.awaiting()),
            "answered": _listed(selectors.answered()),
        },
    )


@login_required
@require_GET
def awaiting_count(request: HttpRequest) -> JsonResponse:
    if not can(request.user, Action.USE_CONSOLE):
        raise Http404
    return JsonResponse({"awaiting": selectors.awaiting_count()})


@login_required
@require_http_methods(["GET", "POST"])
def letter_detail(request: HttpRequest, letter_id: uuid.UUID) -> HttpResponse:
    """One letter with its answers, and the form to answer it."""
    try:
        letter = services.letter_read(actor=request.user, letter_id=letter_id)
    except NotFound:
        raise Http404 from None
    form = ReplyForm(request.POST or None, initial={"seen_seq": letter.last_seq})
    if request.method == "POST" and form.is_valid():
        try:
            services.letter_reply(
                actor=request.user,
                letter_id=letter.id,
                text=form.cleaned_data["text"],
                seen_seq=form.cleaned_data["seen_seq"],
            )
        except NotFound:
            raise Http404 from None
        except ChatError as exc:
            form.add_error("text", exc.message)
        else:
            messages.success(
                request,
                _(
                    "Your answer is saved. The visitor reads it when they come back "
                    "with their code."
                ),
            )
            return redirect("letters:list")
    return render(
        request,
        "letters/detail.html",
        {
            "other_language": language_switch(request),
            "letter": letter,
            "short": _short(letter),
            "entries": selectors.entries(letter),
            "form": form,
        },
    )
