"""Opening hours (haven.chat.hours): plain Python, no database."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from haven.chat.hours import HORIZON_DAYS, Schedule, Span

AMS = ZoneInfo("Europe/Amsterdam")


def at(day: str, time: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=AMS)


# Monday to Friday 19:00-23:00, Saturday 20:00-01:00 (past midnight), Sunday closed.
WEEK = Schedule(
    zone=AMS,
    weekly={
        **{day: [Span(dt.time(19), dt.time(23))] for day in range(5)},
        5: [Span(dt.time(20), dt.time(1))],
    },
)


def test_no_hours_at_all_means_always_open() -> None:
    """A fresh install (nothing set) behaves as before hours existed."""
    schedule = Schedule(zone=AMS)
    assert schedule.is_open(at("2026-12-07", "04:00"))
    assert schedule.next_opening(at("2026-12-07", "04:00")) is None


def test_without_weekly_hours_an_exception_still_closes_one_day() -> None:
    """Always open, but closed on Christmas Day: from midnight to midnight."""
    schedule = Schedule(zone=AMS, exceptions={dt.date(2026, 12, 25): []})
    assert schedule.is_open(at("2026-12-24", "23:59"))
    assert not schedule.is_open(at("2026-12-25", "12:00"))
    assert schedule.next_opening(at("2026-12-25", "12:00")) == at("2026-12-26", "00:00")


def test_open_within_a_span_and_closed_outside_it() -> None:
    """Opening time included, closing time excluded."""
    assert not WEEK.is_open(at("2026-12-07", "18:59"))
    assert WEEK.is_open(at("2026-12-07", "19:00"))
    assert WEEK.is_open(at("2026-12-07", "22:59"))
    assert not WEEK.is_open(at("2026-12-07", "23:00"))


def test_a_span_past_midnight_stays_open_into_the_next_day() -> None:
    """Saturday 20:00-01:00 is still open at half past midnight on Sunday."""
    assert WEEK.is_open(at("2026-12-13", "00:30"))  # Sunday
    assert not WEEK.is_open(at("2026-12-13", "01:00"))


def test_the_next_opening_is_today_later_or_the_next_open_day() -> None:
    """In the morning: tonight. On Sunday (closed): Monday evening."""
    assert WEEK.next_opening(at("2026-12-07", "09:00")) == at("2026-12-07", "19:00")
    assert WEEK.next_opening(at("2026-12-13", "12:00")) == at("2026-12-14", "19:00")
    assert WEEK.next_opening(at("2026-12-07", "20:00")) is None  # open now


def test_an_exception_closes_a_day_and_the_next_opening_skips_it() -> None:
    """Christmas Day closed: on the morning of the 25th the next opening is the 26th."""
    schedule = Schedule(zone=AMS, weekly=WEEK.weekly, exceptions={dt.date(2026, 12, 25): []})
    assert not schedule.is_open(at("2026-12-25", "20:00"))
    assert schedule.next_opening(at("2026-12-25", "09:00")) == at("2026-12-26", "20:00")
    # The evening before runs as usual.
    assert schedule.is_open(at("2026-12-24", "20:00"))


def test_an_exception_can_give_other_hours_even_on_a_closed_weekday() -> None:
    """Open on a Sunday afternoon (an evening after a television programme, say)."""
    schedule = Schedule(
        zone=AMS,
        weekly=WEEK.weekly,
        exceptions={dt.date(2026, 12, 13): [Span(dt.time(14), dt.time(18))]},
    )
    assert schedule.is_open(at("2026-12-13", "15:00"))
    # Saturday's span past midnight belongs to Saturday: the Sunday exception does not cut it.
    assert schedule.is_open(at("2026-12-13", "00:30"))


def test_an_exception_that_closes_a_day_does_not_cut_the_night_before() -> None:
    """A span belongs to the day it opens on."""
    schedule = Schedule(zone=AMS, weekly=WEEK.weekly, exceptions={dt.date(2026, 12, 13): []})
    assert schedule.is_open(at("2026-12-13", "00:30"))


def test_times_are_the_helplines_wall_clock_across_a_change_to_summer_time() -> None:
    """19:00 in Amsterdam is 18:00 UTC in winter and 17:00 UTC in summer."""
    winter = WEEK.next_opening(dt.datetime(2026, 3, 27, 12, tzinfo=dt.UTC))  # a Friday
    summer = WEEK.next_opening(dt.datetime(2026, 3, 30, 12, tzinfo=dt.UTC))  # the Monday after
    assert winter is not None and winter.astimezone(dt.UTC).hour == 18
    assert summer is not None and summer.astimezone(dt.UTC).hour == 17


def test_nothing_opening_within_the_horizon_says_no_day() -> None:
    """Closed for longer than the horizon: closed, and no day is promised."""
    start = dt.date(2026, 12, 7)
    closed = {start + dt.timedelta(days=n): [] for n in range(HORIZON_DAYS + 2)}
    schedule = Schedule(zone=AMS, weekly=WEEK.weekly, exceptions=closed)
    assert not schedule.is_open(at("2026-12-07", "20:00"))
    assert schedule.next_opening(at("2026-12-07", "20:00")) is None


def test_a_moment_in_another_zone_is_judged_by_the_helplines_clock() -> None:
    """18:30 UTC on a Monday in December is 19:30 in Amsterdam: open."""
    assert WEEK.is_open(dt.datetime(2026, 12, 7, 18, 30, tzinfo=dt.UTC))
