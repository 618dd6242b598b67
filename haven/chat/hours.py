"""Opening hours: whether the chat is open at a moment, and when it opens next.

Plain Python, no Django (the models and the admin that fill a :class:`Schedule` are in
``haven.chat.models`` and ``haven.chat.selectors``).

A week holds spans per weekday; a span that closes at or before the time it opens runs
past midnight (19:00-01:00 is open until one in the night). An exception for a date (a
holiday) replaces that date's weekly spans: no spans is closed all day. A span belongs to
the day it opens on, so an exception for 25 December does not cut short the evening of
24 December that runs past midnight.

With no weekly spans at all, every day is open all day: that is how Haven behaved before
hours existed (and what a fresh install wants until an administrator sets the hours), and
exceptions still apply, so a helpline that is always open can still close on one day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

# How far ahead the next opening is looked for; beyond it the visitor is not told a day.
HORIZON_DAYS = 62


@dataclass(frozen=True)
class Span:
    opens: dt.time
    closes: dt.time

    def on(self, day: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """The moments this span opens and closes when it opens on ``day``."""
        start = dt.datetime.combine(day, self.opens, tzinfo=zone)
        end_day = day if self.closes > self.opens else day + dt.timedelta(days=1)
        end = dt.datetime.combine(end_day, self.closes, tzinfo=zone)
        return start, end


# Midnight to midnight: closes "at or before" it opens, so the next day.
ALL_DAY = Span(dt.time(0), dt.time(0))


@dataclass(frozen=True)
class Schedule:
    zone: ZoneInfo
    # weekday (Monday = 0) -> spans
    weekly: Mapping[int, Sequence[Span]] = field(default_factory=dict)
    # date -> spans replacing that weekday's (empty: closed all day)
    exceptions: Mapping[dt.date, Sequence[Span]] = field(default_factory=dict)

    @property
    def weekly_set(self) -> bool:
        return any(self.weekly.values())

    def spans_on(self, day: dt.date) -> Sequence[Span]:
        if day in self.exceptions:
            return self.exceptions[day]
        if not self.weekly_set:
            return (ALL_DAY,)
        return self.weekly.get(day.weekday(), ())

    def _intervals(
        self, start_day: dt.date, days: int
    ) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        for offset in range(days):
            day = start_day + dt.timedelta(days=offset)
            for span in sorted(self.spans_on(day), key=lambda s: s.opens):
                yield span.on(day, self.zone)

    def is_open(self, at: dt.datetime) -> bool:
        """Precondition: ``at`` is timezone-aware."""
        local = at.astimezone(self.zone)
        # Yesterday's spans may run past midnight into today.
        return any(
            start <= at < end
            for start, end in self._intervals(local.date() - dt.timedelta(days=1), 2)
        )

    def next_opening(self, at: dt.datetime) -> dt.datetime | None:
        """When the chat opens next after ``at`` (None when open now, or when nothing opens
        within HORIZON_DAYS)."""
        if self.is_open(at):
            return None
        local = at.astimezone(self.zone)
        for start, end in self._intervals(local.date(), HORIZON_DAYS):
            if start > at and end > start:
                return start
        return None
