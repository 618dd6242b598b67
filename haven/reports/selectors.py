"""The counts behind the yearly figures: one aggregate query per period, in the database.

A case is counted in a period when it is coded, describes a victim (contact type "self" or
"about_victim"), and had at least one contact in the period; so each victim counts once per
period however often they came back. Everything else is a conditional count over those
cases, generated from the codebook, so no Python loop ever walks over case rows.

Names of the counts (the contract with haven/reports/figures.py):

* ``victims``; ``contact_type:<code>`` for the two victim contact types;
* ``<question>:<code>`` for every option of every ONE and MANY question of the codebook
  (MANY: cases with that option ticked);
* ``<question>:any`` for MANY questions (at least one option ticked, "unknown" aside);
* ``age:told``; ``age:minor``, ``age:adult`` (by band, told or estimated), ``age:up_to_15``;
* ``parents:any`` (father, mother, stepfather or stepmother), ``parents:<code>``,
  ``parents:both`` (a father or stepfather and a mother or stepmother), and
  ``parents:both:duration:<code>`` for the duration among those;
* ``perpetrators:known`` and ``perpetrators:several`` (two or more, by number when known,
  else by kinds of perpetrator);
* ``platform:<code>`` counted among cases recruited through social media only;
* ``age:youngest`` and ``age:oldest`` (told ages; ``None`` when none was told);
* ``synthetic``: invented cases (``haven demo-data``) among them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Max, Min, Q, QuerySet

from haven.cases import codebook
from haven.cases.codebook import Kind
from haven.cases.models import Case, CaseContact, many_column
from haven.reports.figures import Period, Report, build

Counts = dict[str, int | None]


def landing_year(*, today: dt.date) -> int:
    """The year the figures page opens on: the latest whole year before this one with a
    contact (yearly figures are about whole years, and a year just begun holds a handful
    of cases); this year if only it has contacts; last year when there are none. One query."""
    latest = CaseContact.objects.aggregate(
        whole=Max("on", filter=Q(on__lt=dt.date(today.year, 1, 1))), any=Max("on")
    )
    if latest["whole"] is not None:
        return int(latest["whole"].year)
    if latest["any"] is not None:
        return int(latest["any"].year)
    return today.year - 1


def victims_in(start: dt.date, end: dt.date) -> QuerySet[Case]:
    """Coded victim cases with a contact on a day in [start, end).

    Written as ``id IN (the cases of the period's contacts)``: SQLite then starts from the
    contacts' (day, case) index and looks up only those cases, where ``EXISTS`` made it
    test every case in the database (three times slower on a million cases); PostgreSQL
    plans both as the same semi-join (docs/performance.md)."""
    contacts = CaseContact.objects.filter(on__gte=start, on__lt=end).values("case_id")
    return Case.objects.filter(
        pk__in=contacts,
        coded_at__isnull=False,
        contact_type__in=sorted(codebook.VICTIM_CONTACT_TYPES),
    )


def _parents(*codes: str) -> Q:
    q = Q()
    for code in codes:
        q |= Q(**{many_column("perpetrators", code): True})
    return q


def count_expressions() -> dict[str, Any]:
    """Every count as a database aggregate, keyed by its name (see module docstring)."""
    exprs: dict[str, Any] = {
        "victims": Count("pk"),
        "synthetic": Count("pk", filter=Q(synthetic=True)),
    }
    for code in sorted(codebook.VICTIM_CONTACT_TYPES):
        exprs[f"contact_type:{code}"] = Count("pk", filter=Q(contact_type=code))
    for question in codebook.QUESTIONS:
        if question.name in ("contact_type", "platform"):
            continue
        if question.kind is Kind.ONE:
            for code in question.codes:
                exprs[f"{question.name}:{code}"] = Count("pk", filter=Q(**{question.name: code}))
        elif question.kind is Kind.MANY:
            any_q = Q()
            for code in question.codes:
                column = Q(**{many_column(question.name, code): True})
                exprs[f"{question.name}:{code}"] = Count("pk", filter=column)
                if code != question.exclusive:
                    any_q |= column
            exprs[f"{question.name}:any"] = Count("pk", filter=any_q)
    social = Q(recruitment="social_media")
    for code in codebook.BY_NAME["platform"].codes:
        if code:
            exprs[f"platform:{code}"] = Count("pk", filter=social & Q(platform=code))

    exprs["age:told"] = Count("pk", filter=Q(age__isnull=False))
    exprs["age:minor"] = Count("pk", filter=Q(age_band__in=sorted(codebook.MINOR_BANDS)))
    adult_bands = [code for code, _low, _high in codebook.AGE_BANDS]
    adult_bands = [code for code in adult_bands if code not in codebook.MINOR_BANDS]
    exprs["age:adult"] = Count("pk", filter=Q(age_band__in=adult_bands))
    exprs["age:up_to_15"] = Count("pk", filter=Q(age_band__in=sorted(codebook.UP_TO_15_BANDS)))
    exprs["age:youngest"] = Min("age")
    exprs["age:oldest"] = Max("age")

    any_parent = _parents(*codebook.PARENT_CODES)
    both = _parents("father", "stepfather") & _parents("mother", "stepmother")
    exprs["parents:any"] = Count("pk", filter=any_parent)
    for code in codebook.PARENT_CODES:
        exprs[f"parents:{code}"] = Count("pk", filter=_parents(code))
    exprs["parents:both"] = Count("pk", filter=both)
    for code in codebook.BY_NAME["duration"].codes:
        exprs[f"parents:both:duration:{code}"] = Count("pk", filter=both & Q(duration=code))

    kinds = [c for c in codebook.BY_NAME["perpetrators"].codes if c != "unknown"]
    any_kind = Q()
    for code in kinds:
        any_kind |= Q(**{many_column("perpetrators", code): True})
    # Two or more kinds ticked, as an OR over pairs: portable SQL, and the list is short.
    several_kinds = Q()
    for i, first in enumerate(kinds):
        for second in kinds[i + 1 :]:
            several_kinds |= Q(**{many_column("perpetrators", first): True}) & Q(
                **{many_column("perpetrators", second): True}
            )
    known = Q(perpetrator_count__isnull=False) | any_kind
    several = Q(perpetrator_count__gte=2) | (Q(perpetrator_count__isnull=True) & several_kinds)
    exprs["perpetrators:known"] = Count("pk", filter=known)
    exprs["perpetrators:several"] = Count("pk", filter=several)
    return exprs


def period_counts(start: dt.date, end: dt.date) -> Counts:
    """All counts for [start, end) in one query."""
    row = victims_in(start, end).aggregate(**count_expressions())
    return {name: (None if value is None else int(value)) for name, value in row.items()}


def shift_years(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` years earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


# The first year a report or an estimate may be about (pages, commands and services alike).
FIRST_YEAR = 2000


def is_calendar_year(start: dt.date, end: dt.date) -> bool:
    """Whether [start, end) is one whole calendar year."""
    return (start.month, start.day) == (1, 1) and end == dt.date(start.year + 1, 1, 1)


def publishable(start: dt.date, end: dt.date, *, today: dt.date) -> bool:
    """Whether public figures may be made for [start, end): only a whole calendar year that
    has ended. Two public reports over overlapping periods (a year and its first half, or a
    year before and after its last month) could be subtracted from each other, and the
    difference is a small period whose counts nobody protected (docs/reports.md §5)."""
    return is_calendar_year(start, end) and end <= today


def period_label(start: dt.date, end: dt.date) -> str:
    """ "2020" for a calendar year, else "2020-03-01/2020-08-31" (ISO 8601, end inclusive):
    the same in every language."""
    if is_calendar_year(start, end):
        return str(start.year)
    return f"{start.isoformat()}/{(end - dt.timedelta(days=1)).isoformat()}"


def report_periods(start: dt.date, end: dt.date, *, history: int = 3) -> list[Period]:
    """The counts for [start, end) and for the same span 1..``history`` years earlier,
    newest first: ``history + 1`` queries, one per period."""
    periods = []
    for back in range(history + 1):
        s, e = shift_years(start, back), shift_years(end, back)
        periods.append(Period(period_label(s, e), s, e, period_counts(s, e)))
    return periods


def yearly_report(
    *,
    start: dt.date,
    end: dt.date,
    public: bool,
    threshold: int,
    history: int = 3,
    generated_at: dt.datetime | None = None,
) -> Report:
    """The report for [start, end) with up to ``history`` earlier years beside it."""
    current, *earlier = report_periods(start, end, history=history)
    return build(
        current,
        earlier,
        public=public,
        threshold=threshold,
        synthetic=int(current.counts.get("synthetic") or 0),
        generated_at=generated_at,
    )


# --- the team's figures (haven.reports.team) --------------------------------------------------


def team_contacts(since: dt.datetime, until: dt.datetime) -> list[Any]:
    """Every conversation started in [since, until): when, whether answered, whether it
    ended before anyone answered. One query; times and flags only, nothing decrypted."""
    from haven.chat.models import Conversation
    from haven.reports.team import Contact

    rows = Conversation.objects.filter(created_at__gte=since, created_at__lt=until).values_list(
        "created_at", "accepted_at", "status"
    )
    return [
        Contact(
            started_at=started,
            answered=accepted is not None,
            left=accepted is None and status == Conversation.Status.ENDED,
        )
        for started, accepted, status in rows
    ]


def team_per_counsellor(since: dt.datetime, until: dt.datetime) -> dict[str, int]:
    """Chats answered per counsellor (who holds each now, after any transfer), for the
    conversations started in [since, until). One query."""
    from haven.chat.models import Conversation

    rows = (
        Conversation.objects.filter(
            created_at__gte=since,
            created_at__lt=until,
            accepted_at__isnull=False,
            counsellor__isnull=False,
        )
        .values_list("counsellor__username")
        .annotate(chats=Count("id"))
        .order_by("counsellor__username")
    )
    return {str(name): int(chats) for name, chats in rows}


def team_now() -> dict[str, Any]:
    """The moment: visitors waiting, the longest wait in minutes, conversations live (the
    figures /metrics shows), counsellors with a console open, and whether the queue is
    watched. Three small queries."""
    from haven.chat import selectors as chat_selectors

    waiting, longest, live = chat_selectors.queue_figures()
    return {
        "waiting": waiting,
        "longest_wait_minutes": int(longest // 60) if waiting else None,
        "live": live,
        "counsellors_online": chat_selectors.open_consoles().values("user_id").distinct().count(),
        "watched": chat_selectors.queue_watched(),
    }
