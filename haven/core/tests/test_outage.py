"""An outage is logged once when it starts and once when it ends, whatever the failures."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError

from haven.core import outage


def test_an_outage_is_one_line_and_its_end_another(caplog) -> None:  # type: ignore[no-untyped-def]
    """Many failures, then many successes: two lines, the second with the failures
    counted and how long it lasted."""
    part = outage.Outage("database", "nothing is acknowledged until it is back")
    caplog.set_level(logging.WARNING, logger="haven.outage")
    for _ in range(50):
        part.failed(OperationalError("connection refused"))
    assert part.down
    for _ in range(50):
        part.recovered()
    assert not part.down
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == (
        "The database cannot be reached (OperationalError): nothing is acknowledged until "
        "it is back."
    )
    assert lines[1].startswith("The database is back after ")
    assert lines[1].endswith("(50 failed calls meanwhile).")
    assert len(lines) == 2


def test_database_errors_are_told_from_bugs() -> None:
    """Django's database errors and the drivers' own count; a programming error does not."""
    assert outage.is_database_error(OperationalError("x"))
    assert outage.is_database_error(InterfaceError("x"))
    assert not outage.is_database_error(KeyError("x"))
    assert not outage.is_database_error(ValueError("x"))
