"""The team's figures: counting per hour of the week, the heat map, the protection of small
numbers in the file, and the page and file for supervisors only."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from haven.conftest import sign_in_fully
from haven.reports import charts, selectors, team

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
UTC = dt.UTC


def contact(when: dt.datetime, answered: bool = True, left: bool = False) -> team.Contact:
    return team.Contact(started_at=when, answered=answered, left=left)


# --- counting -------------------------------------------------------------------------------


def test_each_conversation_counts_in_the_local_hour_of_the_week_it_started() -> None:
    """Monday 2 March 2026 18:30 UTC is 19:30 in Amsterdam (winter time); Sunday 29 March
    01:30 UTC is 03:30 (summer time began at 02:00 local). Sunday 22:30 UTC is Monday
    already, locally."""
    found = team.week(
        [
            contact(dt.datetime(2026, 3, 2, 18, 30, tzinfo=UTC)),
            contact(dt.datetime(2026, 3, 2, 18, 40, tzinfo=UTC), answered=False, left=True),
            contact(dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC), answered=False),
            contact(dt.datetime(2026, 3, 1, 23, 30, tzinfo=UTC)),
        ],
        AMSTERDAM,
    )
    assert found.started[0][19] == 2 and found.answered[0][19] == 1 and found.left[0][19] == 1
    assert found.started[6][3] == 1 and found.answered[6][3] == 0 and found.left[6][3] == 0
    assert found.started[0][0] == 1
    assert sum(map(sum, found.started)) == 4


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        team.week([contact(dt.datetime(2026, 3, 2, 18, 30))], AMSTERDAM)


# --- the protection in the file ----------------------------------------------------------------


def _grid(seed: int) -> team.Grid:
    """An invented week: busy evenings, quiet nights, a few small counts."""
    grid = team.empty_grid()
    for day, hour in itertools.product(range(team.DAYS), range(team.HOURS)):
        grid[day][hour] = (
            ((day * 7 + hour * 13 + seed) % 29) if 17 <= hour <= 23 else ((day + hour + seed) % 4)
        )
    return grid


def test_no_small_count_is_shown_and_none_withheld_follows_from_a_line() -> None:
    """Counts 1 to 9 are withheld; every day and every hour (with its published total)
    holds no single withheld cell that subtraction would give back; shown cells are exact."""
    grid = _grid(3)
    protected = team.protect_week(grid, threshold=10)
    for day in range(team.DAYS):
        for hour in range(team.HOURS):
            shown = protected.cells[day][hour]
            if shown is not None:
                assert shown == grid[day][hour]
                assert shown == 0 or shown >= 10
    lines = [
        [*(protected.cells[d][h] for h in range(team.HOURS)), protected.day_totals[d]]
        for d in range(team.DAYS)
    ] + [
        [*(protected.cells[d][h] for d in range(team.DAYS)), protected.hour_totals[h]]
        for h in range(team.HOURS)
    ]
    for line in lines:
        assert sum(value is None for value in line) != 1


def test_counsellors_with_few_chats_are_withheld_alike() -> None:
    counts = {"anna": 40, "ben": 3, "cas": 25, "dee": 12}
    shown, total = team.protect_counsellors(counts, threshold=10)
    assert shown["anna"] == 40 and shown["ben"] is None
    assert sum(v is None for v in [*shown.values(), total]) >= 2


def test_every_withheld_number_is_written_the_same_way() -> None:
    grid = _grid(5)
    measures = {name: team.protect_week(grid, 10) for name in team.MEASURES}
    counsellors, total = team.protect_counsellors({"anna": 30, "ben": 2, "cas": 4}, 10)
    rows = team.csv_rows(measures, counsellors, total, ["ma", "di", "wo", "do", "vr", "za", "zo"])
    values = {cell for row in rows[1:] for cell in row[3:]}
    words = {v for v in values if not v.isdigit()}
    assert words <= {team.WITHHELD, "chats"}
    assert team.WITHHELD in words
    assert not any(v.isdigit() and 0 < int(v) < 10 for v in values)


# --- the chart -----------------------------------------------------------------------------------


def test_the_heat_map_is_an_accessible_image_with_every_number_written() -> None:
    svg = charts.heat_map(
        title="Started <per hour>",
        description="Counts per hour of the week.",
        rows=["Mon", "Tue"],
        columns=["0", "1", "2"],
        values=[[0, 5, 10], [None, 2, 1]],
        tip=lambda day, hour, value: f"{day} {hour}: {value}",
    )
    root = ET.fromstring(svg)  # noqa: S314 (our own output, parsed to check it)
    ns = {"s": charts.SVG_NAMESPACE}
    assert root.get("role") == "img"
    assert root.find("s:title", ns).text == "Started <per hour>"  # type: ignore[union-attr]
    cells = root.findall(".//s:g[@class='cell']", ns)
    assert len(cells) == 6
    assert [c.find("s:text", ns).text for c in cells] == ["0", "5", "10", "\N{EN DASH}", "2", "1"]  # type: ignore[union-attr]
    assert cells[3].find("s:title", ns).text == "Tue 0: None"  # type: ignore[union-attr]
    assert "style" not in svg and "<script" not in svg
    assert svg == charts.heat_map(
        title="Started <per hour>",
        description="Counts per hour of the week.",
        rows=["Mon", "Tue"],
        columns=["0", "1", "2"],
        values=[[0, 5, 10], [None, 2, 1]],
        tip=lambda day, hour, value: f"{day} {hour}: {value}",
    )
    with pytest.raises(ValueError):
        charts.heat_map(title="x", description="x", rows=["a"], columns=["b"], values=[[-1]],
                        tip=lambda *a: "")  # fmt: skip


# --- the page and the file --------------------------------------------------------------------


def _conversations(clock, counsellor, make_counsellor) -> None:  # type: ignore[no-untyped-def]
    from haven.chat import services

    ben = make_counsellor("ben")
    for index in range(14):
        clock.advance(minutes=7)
        conversation = services.conversation_start(language="nl")[0]
        if index % 7 == 6:
            services.conversation_end(conversation_id=conversation.id, party="visitor")
            continue
        who = counsellor if index % 2 else ben
        services.conversation_accept(conversation_id=conversation.id, counsellor=who)


@pytest.mark.django_db
def test_the_selectors_read_in_one_query_each(
    clock, counsellor, make_counsellor, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    _conversations(clock, counsellor, make_counsellor)
    from haven.core import clock as clock_module

    now = clock_module.now()
    since, until = now - dt.timedelta(days=1), now + dt.timedelta(seconds=1)
    with django_assert_num_queries(1):
        contacts = selectors.team_contacts(since, until)
    assert len(contacts) == 14
    assert sum(c.left for c in contacts) == 2 and sum(c.answered for c in contacts) == 12
    with django_assert_num_queries(1):
        per = selectors.team_per_counsellor(since, until)
    assert per == {"ben": 6, counsellor.get_username(): 6}
    with django_assert_num_queries(3):
        now = selectors.team_now()
    assert (now["waiting"], now["live"]) == (0, 12)


@pytest.mark.django_db
def test_supervisors_see_the_page_and_get_the_file_counsellors_do_not(
    clock, counsellor, make_counsellor, make_staff
) -> None:  # type: ignore[no-untyped-def]
    """The page has both charts and the exact counts per counsellor; the file withholds
    the small ones (all 14 conversations fall in one hour here) and is audited."""
    from haven.audit.models import AuditEntry

    _conversations(clock, counsellor, make_counsellor)
    supervisor = Client()
    sign_in_fully(supervisor, make_staff("sem", "supervisor"))
    page = supervisor.get("/en/console/reports/team/").content.decode()
    assert 'id="team-started-title"' in page and 'id="team-left-title"' in page
    assert "<td>ben</td><td>6</td>" in page
    response = supervisor.get("/en/console/reports/team.csv?weeks=1")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    by_name = {row[1]: row[3] for row in rows if row and row[0] == "counsellor"}
    assert by_name == {"ben": "withheld", counsellor.get_username(): "withheld"}
    assert not any(cell.isdigit() and 0 < int(cell) < 10 for row in rows[1:] for cell in row[3:])
    assert AuditEntry.objects.filter(action="team_figures.export").count() == 1
    other = Client()
    sign_in_fully(other, counsellor)
    assert other.get("/en/console/reports/team/").status_code == 404
    assert other.get("/en/console/reports/team.csv").status_code == 404
