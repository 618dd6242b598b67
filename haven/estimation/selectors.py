"""Reads of saved estimates, and the estimate a yearly report shows.

Permission-checked fetches go through ``access_estimate`` and ``estimates_for`` only:
analysts (``Action.VIEW_FIGURES``) see every saved estimate; anyone else none, and a
missing estimate and a forbidden one look the same (``None``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import translation

from haven.accounts.permissions import can
from haven.accounts.roles import Action
from haven.estimation.messages import Message
from haven.estimation.models import SavedEstimate
from haven.estimation.mse import Estimate
from haven.reports.selectors import is_calendar_year

LANGUAGES = ("nl", "en")


def access_estimate(actor: Any, estimate_id: uuid.UUID | str) -> SavedEstimate | None:
    """The saved estimate if ``actor`` may see it, else ``None`` (missing and forbidden
    alike)."""
    if not can(actor, Action.VIEW_FIGURES):
        return None
    try:
        return SavedEstimate.objects.select_related("created_by").get(pk=estimate_id)
    except (SavedEstimate.DoesNotExist, ValidationError, ValueError):
        return None


def estimates_for(actor: Any) -> QuerySet[SavedEstimate]:
    """Every saved estimate for an analyst, newest first; nothing for anyone else."""
    if not can(actor, Action.VIEW_FIGURES):
        return SavedEstimate.objects.none()
    return SavedEstimate.objects.select_related("created_by").order_by("-created_at", "-id")


def attached_estimate(year: int) -> SavedEstimate | None:
    """The estimate the report of ``year`` shows: the newest one saved for that year."""
    return SavedEstimate.objects.filter(year=year).order_by("-created_at", "-id").first()


def report_estimate(
    *, start: dt.date, end: dt.date, public: bool = False, threshold: int | None = None
) -> dict[str, Any] | None:
    """The estimate entry of the report of [start, end): that of the estimate attached to
    its year (see :func:`report_entry`), or ``None`` when the period is not a calendar year
    or no estimate is attached to it.

    Public output follows the report's rule for small numbers: an estimate made from fewer
    people than ``threshold`` seen on the registers is not published."""
    # Only a calendar year's report shows an estimate: an estimate is made for a year.
    if not is_calendar_year(start, end):
        return None
    saved = attached_estimate(start.year)
    if saved is None:
        return None
    entry = report_entry(saved)
    if public and threshold is not None and entry["observed"] < threshold:
        return None
    return entry


def _both(message: Message) -> dict[str, str]:
    out = {}
    for language in LANGUAGES:
        with translation.override(language):
            out[language] = message.render(translation.gettext)
    return out


def interval_kind(result: Estimate) -> str:
    """Which interval :attr:`Estimate.interval` is: ``bca`` (the bootstrap's) or ``model``."""
    summary = result.bootstrap
    return "bca" if summary is not None and summary.interval is not None else "model"


def report_entry(saved: SavedEstimate) -> dict[str, Any]:
    """A saved estimate as the yearly report shows it: JSON-ready, its sentences in Dutch
    and English (the report's JSON and CSV hold both; a page or PDF picks one). The format
    is in docs/reports.md."""
    result = saved.estimate
    interval = result.interval
    return {
        "id": str(saved.id),
        "title": saved.title,
        "year": saved.year,
        "created_at": saved.created_at.isoformat(),
        "lists": list(result.lists),
        "observed": result.observed,
        "method": result.method,
        "total": round(result.total, 2),
        "unseen": round(result.unseen, 2),
        "share_seen": round(result.share_seen, 4),
        "one_in": result.one_in,
        "seen_sentence": _both(result.seen_sentence),
        "interval": {
            "lower": round(interval.lower, 2),
            "upper": round(interval.upper, 2),
            "level": interval.level,
            "kind": interval_kind(result),
        },
        "model": _both(result.model.words),
        "warnings": [{"code": w.code, **_both(w)} for w in result.warnings],
    }
