"""The estimates page for analysts: saved estimates, a form for a new one, and each result.

Under /console/, so the staff middleware has already required the second factor. Reads go
through selectors and writes through services, which check permissions again; a missing
and a forbidden estimate both answer 404. The words are those of the command
(:mod:`haven.estimation.render`), in the active language.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from haven.accounts.permissions import can
from haven.accounts.roles import Action
from haven.chat.services import NotFound
from haven.core.i18n import language_switch, whole_number
from haven.estimation import render as words
from haven.estimation import selectors, services
from haven.estimation.forms import EstimateForm
from haven.estimation.models import SavedEstimate
from haven.estimation.mse import ModelEstimate
from haven.estimation.selection import NoModel
from haven.estimation.table import TableError

# The list shows this many estimates, newest first (far more than a knowledge centre makes).
LIST_LIMIT = 200

EXAMPLE = "b,c,d,count\n0,0,1,41\n0,1,0,5\n1,0,0,5\n1,1,0,54\n1,0,1,6\n0,1,1,0\n1,1,1,12\n"


def _decimal(value: float) -> str:
    return number_format(round(value, 1), decimal_pos=1, force_grouping=True)


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, template, {"other_language": language_switch(request), **context})


def _allowed(request: HttpRequest) -> None:
    if not can(request.user, Action.VIEW_FIGURES):
        raise Http404


# --- the list and the form ------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def estimates_page(request: HttpRequest) -> HttpResponse:
    """Saved estimates, newest first, and the form for a new one. A bad table is answered
    with every problem and its line; a table no model fits, with the reason."""
    _allowed(request)
    problems: list[str] = []
    refusal = ""
    if request.method == "POST":
        form = EstimateForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = services.estimate_create(
                    actor=request.user,
                    title=data["title"],
                    year=data["year"],
                    table_csv=data["table"],
                    method=data["method"],
                    bootstrap=data["bootstrap"],
                    seed=data["seed"],
                )
            except TableError as exc:
                problems = [words.render_problem(problem, _) for problem in exc.problems]
            except NoModel as exc:
                refusal = words.render_refusal(exc.message, _)
            except services.TooSlow as exc:
                form.add_error(exc.field, exc.message)
            else:
                messages.success(request, _("The estimate was saved."))
                return redirect("estimation:detail", estimate_id=saved.id)
    else:
        form = EstimateForm()
    return _page(
        request,
        "estimation/list.html",
        {
            "form": form,
            "problems": problems,
            "refusal": refusal,
            "estimates": _rows(
                list(selectors.estimates_for(request.user).defer("table_csv")[:LIST_LIMIT])
            ),
            "example": EXAMPLE,
        },
    )


def _rows(saved: list[SavedEstimate]) -> list[dict[str, Any]]:
    """One row per estimate; ``attached`` marks the one each year's report shows (the
    newest of its year: the list is newest first)."""
    rows = []
    years_seen: set[int] = set()
    for item in saved:
        result = item.estimate
        attached = item.year is not None and item.year not in years_seen
        if item.year is not None:
            years_seen.add(item.year)
        rows.append(
            {
                "saved": item,
                "total": whole_number(result.total),
                "interval": words.interval_text(result.interval, _, whole_number),
                "method": _(words.METHOD_NAMES[result.method]),
                "attached": attached,
            }
        )
    return rows


# --- one estimate ---------------------------------------------------------------------------


@login_required
@require_GET
def estimate_detail(request: HttpRequest, estimate_id: uuid.UUID) -> HttpResponse:
    """The result in words and figures, the methods side by side, the warnings and the
    table; ``?format=json`` downloads it."""
    saved = selectors.access_estimate(request.user, estimate_id)
    if saved is None:
        raise Http404
    if request.GET.get("format") == "json":
        return _download(request, saved)
    return _page(request, "estimation/detail.html", {"saved": saved, **_result(saved)})


def _choice_row(choice: ModelEstimate, chosen: str) -> dict[str, Any]:
    return {
        "method": _(words.METHOD_NAMES[choice.method]),
        "chosen": choice.method == chosen,
        "total": whole_number(choice.total),
        "interval": words.interval_text(choice.interval, _, whole_number),
        "model": choice.words.render(_),
        "aic": _decimal(choice.aic),
        "bic": _decimal(choice.bic),
    }


def _result(saved: SavedEstimate) -> dict[str, Any]:
    """What the detail page shows, worded in the active language."""
    result = saved.estimate
    summary = result.bootstrap
    if summary is None:
        bca = None
    elif summary.interval is None:
        bca = _("could not be computed")
    else:
        bca = words.interval_text(summary.interval, _, whole_number)
    table = saved.table
    return {
        "result": result,
        "level": words.percent(result.level),
        "total": whole_number(result.total),
        "unseen": whole_number(result.unseen),
        "observed": whole_number(result.observed),
        "share": round(100 * result.share_seen),
        "seen_sentence": result.seen_sentence.render(_),
        "model_words": result.model.words.render(_),
        "chosen_by": words.chosen_by(result, _),
        "model_interval": words.interval_text(result.model.interval, _, whole_number),
        "bca_interval": bca,
        "bootstrap": summary,
        "comparison": [_choice_row(choice, result.method) for choice in result.comparison],
        "warnings": [warning.render(_) for warning in result.warnings],
        "lists": [
            {"name": name, "size": whole_number(size)}
            for name, size in zip(result.lists, result.list_sizes, strict=True)
        ],
        "table": {
            "lists": table.lists,
            "rows": [
                {"pattern": pattern, "count": whole_number(count)}
                for pattern, count in zip(table.patterns, table.counts, strict=True)
            ],
        },
        "is_attached": saved.year is not None and selectors.attached_estimate(saved.year) == saved,
    }


def _download(request: HttpRequest, saved: SavedEstimate) -> HttpResponse:
    try:
        body = services.estimate_export(actor=request.user, estimate_id=saved.id)
    except NotFound:
        raise Http404 from None
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False, indent=2) + "\n",
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="haven-estimate-{saved.id}.json"'
    return response


@login_required
@require_POST
def estimate_delete(request: HttpRequest, estimate_id: uuid.UUID) -> HttpResponse:
    try:
        services.estimate_delete(actor=request.user, estimate_id=estimate_id)
    except NotFound:
        raise Http404 from None
    messages.success(request, _("The estimate was deleted."))
    return redirect("estimation:list")
