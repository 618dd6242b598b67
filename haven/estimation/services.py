"""Every write to saved estimates: create (read the table, estimate, store) and delete.

Each service checks permissions itself (analysts: ``Action.VIEW_FIGURES``), refuses what
the role does not allow as if the estimate did not exist, and writes an audit entry. The
audit detail holds figures and settings, never the table.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from haven.accounts.permissions import can
from haven.accounts.roles import Action
from haven.audit.services import audit_record
from haven.chat.services import NotFound
from haven.core import clock
from haven.estimation import bootstrap as boot
from haven.estimation import selectors
from haven.estimation.models import SavedEstimate
from haven.estimation.mse import estimate
from haven.estimation.selection import METHODS
from haven.estimation.table import parse_csv
from haven.reports.selectors import FIRST_YEAR

# The most bootstrap replications the page allows: 1,000 (the default) takes up to a
# minute on the reference tables; more would keep a web request waiting far longer.
MAX_BOOTSTRAP = 1000
MAX_SEED = 2**31 - 1
TITLE_MAX = 200

# The page estimates inside the web request, on the server that also carries the chat. The
# work doubles with every list (bench/mse_bench.py: a replicate takes 24 to 60 ms on 5
# lists, about 0.23 s on 8), so the page takes at most 10 lists and at most
# WEB_BUDGET // 2**(lists - 5) replications; `haven estimate` on the command line has
# neither limit.
WEB_MAX_LISTS = 10
WEB_BUDGET = 1000


def bootstrap_limit(lists: int) -> int:
    """The most bootstrap replications the page runs for a table of ``lists`` lists."""
    return min(MAX_BOOTSTRAP, WEB_BUDGET // 2 ** max(0, lists - 5))


class TooSlow(Exception):
    """The table or the settings would keep the web request busy too long. ``field`` is the
    form field to blame (None: the table as a whole)."""

    def __init__(self, message: str, *, field: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _not_found() -> NotFound:
    return NotFound(_("This estimate was not found."))


def estimate_create(
    *,
    actor: Any,
    title: str,
    year: int | None,
    table_csv: str | bytes,
    method: str,
    bootstrap: int = boot.REPLICATIONS,
    seed: int = boot.SEED,
) -> SavedEstimate:
    """Read the capture table, estimate it and save the result (analysts only).

    ``year``, when given, attaches the estimate to that year's report (the newest estimate
    of a year is the one shown). Raises :class:`~haven.chat.services.NotFound` for anyone
    who may not see figures, :class:`~haven.estimation.table.TableError` with every problem
    of a bad table, :class:`~haven.estimation.selection.NoModel` when no model can be used
    on it, :class:`TooSlow` when the table or the replications are beyond what a web
    request may take, and ``ValueError`` for settings out of range; nothing is saved then.

    The estimate (its bootstrap can take a minute) runs before the transaction opens, so no
    database transaction stays open while it runs; the save and its audit entry are one
    transaction.
    """
    if not can(actor, Action.VIEW_FIGURES):
        raise _not_found()
    title = title.strip()
    if not title or len(title) > TITLE_MAX:
        raise ValueError(f"title must be 1 to {TITLE_MAX} characters")
    if year is not None and not FIRST_YEAR <= year <= clock.now().year:
        raise ValueError(f"year must be from {FIRST_YEAR} to this year")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    if not 0 <= bootstrap <= MAX_BOOTSTRAP:
        raise ValueError(f"bootstrap must be from 0 to {MAX_BOOTSTRAP}")
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be from 0 to {MAX_SEED}")
    table = parse_csv(table_csv)
    lists = len(table.lists)
    if lists > WEB_MAX_LISTS:
        raise TooSlow(
            _(
                "This table has %(lists)s lists. The page estimates at most %(most)s; use "
                "`haven estimate` on the command line for more."
            )
            % {"lists": lists, "most": WEB_MAX_LISTS},
            field=None,
        )
    if bootstrap > bootstrap_limit(lists):
        raise TooSlow(
            _(
                "With %(lists)s lists the page runs at most %(most)s bootstrap replications "
                "(each one takes longer as lists are added). Use `haven estimate` on the "
                "command line for more."
            )
            % {"lists": lists, "most": bootstrap_limit(lists)},
            field="bootstrap",
        )
    result = estimate(table, method=method, bootstrap=bootstrap, seed=seed)
    with transaction.atomic():
        saved = SavedEstimate.objects.create(
            title=title,
            year=year,
            # Rewritten from the parsed table: list names and counts, nothing else.
            table_csv=table.to_csv(),
            method=method,
            bootstrap=bootstrap,
            seed=seed,
            result=result.to_dict(),
            created_at=clock.now(),
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="estimate.create",
            target_type="estimate",
            target_id=saved.id,
            detail={
                "title": title,
                "year": year,
                "method": method,
                "bootstrap": bootstrap,
                "seed": seed,
                "lists": len(table.lists),
                "observed": table.observed,
                "total": round(result.total),
            },
        )
    return saved


@transaction.atomic
def estimate_export(*, actor: Any, estimate_id: uuid.UUID | str) -> dict[str, Any]:
    """A saved estimate as JSON-ready data (analysts only), audited: the result as
    ``haven estimate --format json`` prints it, and under ``saved`` what was saved with it
    (title, year, bootstrap settings and the table of counts)."""
    saved = _accessible(actor, estimate_id)
    audit_record(
        actor=actor,
        action="estimate.export",
        target_type="estimate",
        target_id=saved.id,
        detail={"format": "json"},
    )
    return {
        **saved.result,
        "saved": {
            "id": str(saved.id),
            "title": saved.title,
            "year": saved.year,
            "created_at": saved.created_at.isoformat(),
            "bootstrap": saved.bootstrap,
            "seed": saved.seed,
            "table_csv": saved.table_csv,
        },
    }


def _accessible(actor: Any, estimate_id: uuid.UUID | str) -> SavedEstimate:
    saved = selectors.access_estimate(actor, estimate_id)
    if saved is None:
        raise _not_found()
    return saved


@transaction.atomic
def estimate_delete(*, actor: Any, estimate_id: uuid.UUID | str) -> None:
    """Delete a saved estimate: any analyst may (the same people who may read it; someone
    who lost the role cannot change which estimate a yearly report shows). A report of its
    year then shows the newest remaining estimate of that year, if any."""
    if not can(actor, Action.VIEW_FIGURES):
        raise _not_found()
    try:
        saved = SavedEstimate.objects.select_for_update().get(pk=estimate_id)
    except (SavedEstimate.DoesNotExist, ValidationError, ValueError):
        raise _not_found() from None
    detail = {
        "title": saved.title,
        "year": saved.year,
        "method": saved.method,
        "total": round(float(saved.result.get("total", 0))),
    }
    saved_id = saved.id
    saved.delete()
    audit_record(
        actor=actor,
        action="estimate.delete",
        target_type="estimate",
        target_id=saved_id,
        detail=detail,
    )
