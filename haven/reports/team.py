"""The team's figures for supervisors: demand per hour of the week, chats that left before
anyone answered, chats per counsellor. Plain Python, no Django.

They help the rota follow demand. On screen (supervisors only) the counts are exact; what
leaves Haven as a file goes through the same disclosure control as the yearly figures
(haven.reports.disclosure): a count of 1 to threshold - 1 is withheld, and enough others
with it that no withheld count can be worked back from the totals. Every withheld cell is
marked alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from haven.reports.disclosure import DEFAULT_THRESHOLD, protect_line, protect_table

DAYS = 7
HOURS = 24
MEASURES = ("started", "answered", "left")
# What the file publishes: started and left, not answered. The three are linked (started =
# answered + left + those still waiting), and each grid is protected on its own: with all
# three published, a withheld "left" of 2 would come back as 14 started minus 12 answered.
PUBLISHED = ("started", "left")


@dataclass(frozen=True)
class Contact:
    """One conversation of the period: when it started, whether someone accepted it, and
    whether it ended before anyone did (the visitor left, or stayed away)."""

    started_at: dt.datetime  # timezone-aware
    answered: bool
    left: bool


Grid = list[list[int]]  # [weekday 0 = Monday][hour 0-23]


def empty_grid() -> Grid:
    return [[0] * HOURS for _ in range(DAYS)]


@dataclass(frozen=True)
class Week:
    """Counts per hour of the week, in the helpline's time zone."""

    started: Grid
    answered: Grid
    left: Grid

    def measure(self, name: str) -> Grid:
        return {"started": self.started, "answered": self.answered, "left": self.left}[name]


def week(contacts: Iterable[Contact], zone: ZoneInfo) -> Week:
    """Each contact counted in the hour of the week it started (local time in ``zone``).
    Precondition: every ``started_at`` is timezone-aware."""
    started, answered, left = empty_grid(), empty_grid(), empty_grid()
    for contact in contacts:
        if contact.started_at.tzinfo is None:
            raise ValueError("started_at must be timezone-aware")
        local = contact.started_at.astimezone(zone)
        day, hour = local.weekday(), local.hour
        started[day][hour] += 1
        if contact.answered:
            answered[day][hour] += 1
        if contact.left:
            left[day][hour] += 1
    return Week(started, answered, left)


@dataclass(frozen=True)
class ProtectedWeek:
    """A measure's grid for a file: ``None`` where withheld; the day and hour totals and
    the grand total likewise."""

    cells: list[list[int | None]]
    day_totals: list[int | None]
    hour_totals: list[int | None]
    total: int | None


def protect_week(grid: Grid, threshold: int = DEFAULT_THRESHOLD) -> ProtectedWeek:
    """Disclosure control for one measure's grid, with its day and hour totals published
    (so both are lines that must not give a withheld cell away)."""
    table = protect_table(
        {day: dict(enumerate(grid[day])) for day in range(DAYS)}, threshold=threshold
    )
    assert table.row_totals is not None and table.column_totals is not None
    assert table.total is not None
    return ProtectedWeek(
        cells=[[table.cells[d][h].shown for h in range(HOURS)] for d in range(DAYS)],
        day_totals=[table.row_totals[d].shown for d in range(DAYS)],
        hour_totals=[table.column_totals[h].shown for h in range(HOURS)],
        total=table.total.shown,
    )


def protect_counsellors(
    counts: Mapping[str, int], threshold: int = DEFAULT_THRESHOLD
) -> tuple[dict[str, int | None], int | None]:
    """Chats per counsellor for a file, and their total: withheld where small (a few
    chats of one named counsellor on one evening narrow down which visitors they were)."""
    line = protect_line(dict(counts), threshold=threshold)
    assert line.total is not None
    return {name: cell.shown for name, cell in line.cells.items()}, line.total.shown


WITHHELD = "withheld"


def csv_rows(
    measures: Mapping[str, ProtectedWeek],
    counsellors: Mapping[str, int | None],
    counsellors_total: int | None,
    day_names: Sequence[str],
) -> list[list[str]]:
    """The file's rows: a header, one row per hour of the week (with a row of totals per
    day and per hour), then the chats per counsellor. Every withheld number is written
    ``withheld``, whatever the reason."""

    def text(value: int | None) -> str:
        return WITHHELD if value is None else str(value)

    names = list(measures)
    rows = [["section", "day", "hour", *names]]
    for day in range(DAYS):
        for hour in range(HOURS):
            rows.append(
                [
                    "hour",
                    day_names[day],
                    str(hour),
                    *(text(measures[n].cells[day][hour]) for n in names),
                ]
            )
    for day in range(DAYS):
        rows.append(
            ["day_total", day_names[day], "", *(text(measures[n].day_totals[day]) for n in names)]
        )
    for hour in range(HOURS):
        rows.append(
            ["hour_total", "", str(hour), *(text(measures[n].hour_totals[hour]) for n in names)]
        )
    rows.append(["total", "", "", *(text(measures[n].total) for n in names)])
    rows.append([])
    rows.append(["section", "counsellor", "", "chats"])
    for name, count in counsellors.items():
        rows.append(["counsellor", name, "", text(count)])
    rows.append(["counsellor_total", "", "", text(counsellors_total)])
    return rows
