"""One clear log line when a part Haven depends on goes away, and one when it is back.

While PostgreSQL is down every frame that needs it fails. Logging each failure (with its
traceback) would bury the one line an operator needs under thousands: instead the first
failure of an outage is logged once, with what it means for the people using Haven, and
its end once, with how long it lasted. Callers report every failure and every success;
the success path costs one attribute read.

Nothing here names a person or a connection: the lines say which part, the kind of error
and for how long.
"""

from __future__ import annotations

import logging
import threading
import time

from django import db

from haven.core import metrics

logger = logging.getLogger("haven.outage")


class Outage:
    """The state of one dependency, shared by every thread of the process."""

    def __init__(self, part: str, meaning: str) -> None:
        self.part = part
        self.meaning = meaning
        self.since: float | None = None  # monotonic time of the first failure, while down
        self.failures = 0
        self.outages = 0  # how many have begun: a connection older than one may be broken
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, exc: BaseException) -> None:
        metrics.errors.labels(f"{self.part}_unreachable").inc()
        with self._lock:
            self.failures += 1
            if self.since is not None:
                return
            self.since = time.monotonic()
            self.outages += 1
        logger.warning(
            "The %s cannot be reached (%s): %s.", self.part, type(exc).__name__, self.meaning
        )

    def recovered(self) -> None:
        if self.since is None:  # the usual case: no lock
            return
        with self._lock:
            if self.since is None:
                return
            lasted, self.since = time.monotonic() - self.since, None
            failures, self.failures = self.failures, 0
        logger.warning(
            "The %s is back after %.1f s (%d failed calls meanwhile).", self.part, lasted, failures
        )


database = Outage(
    "database",
    "nothing is acknowledged until it is back; clients are asked to send again and do",
)


channel_layer = Outage(
    "channel layer (Redis)",
    "messages are still stored and acknowledged; live events wait and are sent when it is back",
)


def is_database_error(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not do its work (as opposed to a bug).

    Django wraps the driver's errors in ``django.db.Error`` subclasses; psycopg's pool
    raises its own ``PoolTimeout`` when no connection can be had."""
    if isinstance(exc, db.Error):
        return True
    return type(exc).__module__.split(".")[0] in {"psycopg", "psycopg_pool", "sqlite3"}
