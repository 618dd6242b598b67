"""The team's figures for supervisors (haven.reports.team): a page, and a file with small
numbers withheld. Thin: the queries are in selectors, the counting and protection in team."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from haven.accounts.permissions import can
from haven.accounts.roles import Action
from haven.audit.services import audit_record
from haven.core import clock
from haven.core.i18n import language_switch
from haven.reports import charts, selectors, team

WEEK_CHOICES = (1, 2, 4, 8, 13)
DEFAULT_WEEKS = 4


def _period(request: HttpRequest) -> tuple[int, dt.datetime, dt.datetime]:
    try:
        weeks = int(request.GET.get("weeks", DEFAULT_WEEKS))
    except ValueError:
        weeks = DEFAULT_WEEKS
    if weeks not in WEEK_CHOICES:
        weeks = DEFAULT_WEEKS
    until = clock.now()
    return weeks, until - dt.timedelta(weeks=weeks), until


def _day_names() -> list[str]:
    return [
        pgettext("weekday, short", "Mon"),
        pgettext("weekday, short", "Tue"),
        pgettext("weekday, short", "Wed"),
        pgettext("weekday, short", "Thu"),
        pgettext("weekday, short", "Fri"),
        pgettext("weekday, short", "Sat"),
        pgettext("weekday, short", "Sun"),
    ]


def _allowed(request: HttpRequest) -> None:
    if not can(request.user, Action.VIEW_TEAM_FIGURES):
        raise Http404


@login_required
@require_GET
def team_page(request: HttpRequest) -> HttpResponse:
    """Now, and the chosen weeks per hour of the week, as charts with their numbers; the
    chats per counsellor. Exact counts: this page is for supervisors only."""
    _allowed(request)
    weeks, since, until = _period(request)
    zone = ZoneInfo(settings.TIME_ZONE)
    grid = team.week(selectors.team_contacts(since, until), zone)
    days = _day_names()
    hours = [str(hour) for hour in range(team.HOURS)]

    def chart(name: str, title: str, colour: str) -> str:
        return charts.heat_map(
            title=title,
            description=_(
                "Counts per hour of the week (rows: days, Monday first; columns: the hour "
                "the conversation started, %(zone)s), over the last %(weeks)s weeks."
            )
            % {"zone": settings.TIME_ZONE, "weeks": weeks},
            rows=days,
            columns=hours,
            values=grid.measure(name),
            tip=lambda day, hour, value: (
                _("%(day)s %(hour)s:00: %(count)s")
                % {"day": day, "hour": hour, "count": "\N{EN DASH}" if value is None else value}
            ),
            colour=colour,
            show_title=False,
            chart_id=f"team-{name}",
        )

    per_counsellor = selectors.team_per_counsellor(since, until)
    context = {
        "other_language": language_switch(request),
        "now": selectors.team_now(),
        "weeks": weeks,
        "week_choices": WEEK_CHOICES,
        "since": since,
        "until": until,
        "time_zone": settings.TIME_ZONE,
        "started_chart": chart("started", _("Conversations started"), charts.PALETTE[0]),
        "left_chart": chart("left", _("Left before anyone answered"), charts.PALETTE[1]),
        "totals": {name: sum(map(sum, grid.measure(name))) for name in team.MEASURES},
        "per_counsellor": per_counsellor,
        "threshold": settings.HAVEN_REPORT_THRESHOLD,
    }
    return render(request, "reports/team.html", context)


@login_required
@require_GET
def team_csv(request: HttpRequest) -> HttpResponse:
    """The same figures as a file, with the yearly figures' protection of small numbers:
    every count from 1 to the threshold - 1 withheld, with enough others that none can be
    worked back, all marked ``withheld``. Audited."""
    _allowed(request)
    weeks, since, until = _period(request)
    threshold = settings.HAVEN_REPORT_THRESHOLD
    grid = team.week(selectors.team_contacts(since, until), ZoneInfo(settings.TIME_ZONE))
    measures = {name: team.protect_week(grid.measure(name), threshold) for name in team.PUBLISHED}
    counsellors, total = team.protect_counsellors(
        selectors.team_per_counsellor(since, until), threshold
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    period = f"{since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC"
    writer.writerow(
        ["# Haven team figures", period, f"hours in {settings.TIME_ZONE}", f"threshold {threshold}"]
    )
    writer.writerows(team.csv_rows(measures, counsellors, total, _day_names()))
    audit_record(actor=request.user, action="team_figures.export", detail={"weeks": weeks})
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="haven-team-{until:%Y-%m-%d}.csv"'
    return response
