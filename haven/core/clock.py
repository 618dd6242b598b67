"""A clock that tests can hold still or move, so time-dependent code is testable.

Production code calls :func:`now`; tests use :func:`frozen` (or the ``clock`` fixture) to
decide what it returns. Always timezone-aware (UTC).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

_frozen_at: dt.datetime | None = None


def now() -> dt.datetime:
    """The current time, aware, in UTC (or the frozen time in a test)."""
    if _frozen_at is not None:
        return _frozen_at
    return dt.datetime.now(dt.UTC)


def set_frozen(moment: dt.datetime | None) -> None:
    """Hold the clock at ``moment`` (aware), or let it run again with ``None``."""
    global _frozen_at
    if moment is not None and moment.tzinfo is None:
        raise ValueError("The clock only holds timezone-aware datetimes.")
    _frozen_at = moment


@contextmanager
def frozen(moment: dt.datetime) -> Iterator[None]:
    set_frozen(moment)
    try:
        yield
    finally:
        set_frozen(None)
