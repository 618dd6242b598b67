"""Abuse counters in this process's memory, which several processes can add up. Pure Python.

Windows are fixed and aligned to the clock (window number = whole seconds since the epoch
divided by the window's length), so every process counts the same window for a key and a
shared store only has to add the processes' counts. A count is what this process saw plus
what the others had reported at the last exchange (see :mod:`haven.core.abuse`), so it is
never lower than this process's own count and at most one exchange behind the others'.

Remembered values (a blocked source, which source a conversation comes from) expire after a
set time. Nothing here is ever written to disk.

Thread-safe: the writer thread counts while the event loop exchanges.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class _Count:
    window: int  # window number
    length: int  # seconds
    local: int = 0  # seen by this process in this window
    others: int = 0  # reported by the other processes at the last exchange
    unsent: int = 0  # local hits not yet reported
    shared: bool = True  # reported at all
    reported: bool = False  # reported at least once (the shared key has its expiry)


@dataclass(frozen=True)
class Report:
    """Hits to add to the shared count ``key`` for window number ``window``."""

    key: str
    window: int
    length: int
    hits: int
    first: bool  # the first report of this window from this process: set the expiry

    @property
    def shared_key(self) -> str:
        return f"{self.key}:{self.window}"


class WindowCounters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, _Count] = {}
        self._values: dict[str, tuple[str, float]] = {}  # key -> (value, until)
        self._unsent_values: dict[str, tuple[str, float]] = {}
        self._since_prune = 0

    def hit(self, key: str, *, window: int, now: float, shared: bool = True) -> int:
        """Count one event; return the count in the current window, all processes (only
        this one's with ``shared=False``)."""
        number = int(now // window)
        with self._lock:
            count = self._counts.get(key)
            if count is None or count.window != number or count.length != window:
                count = self._counts[key] = _Count(window=number, length=window, shared=shared)
            count.local += 1
            if count.shared:
                count.unsent += 1
            self._maybe_prune(now)
            return count.local + count.others

    def count(self, key: str, *, window: int, now: float) -> int:
        with self._lock:
            count = self._counts.get(key)
            if count is None or count.window != int(now // window):
                return 0
            return count.local + count.others

    def remember(self, key: str, value: str, *, seconds: float, now: float) -> None:
        with self._lock:
            self._values[key] = self._unsent_values[key] = (value, now + seconds)

    def recall(self, key: str, *, now: float) -> str | None:
        with self._lock:
            found = self._values.get(key)
            return found[0] if found is not None and found[1] > now else None

    # --- exchange with other processes ---------------------------------------------------

    def reports(self, *, now: float) -> list[Report]:
        """The hits not yet reported, for windows still open. Marks them reported."""
        out = []
        with self._lock:
            for key, count in self._counts.items():
                if count.unsent and count.window == int(now // count.length):
                    out.append(
                        Report(key, count.window, count.length, count.unsent, not count.reported)
                    )
                    count.unsent = 0
                    count.reported = True
        return out

    def unreport(self, reports: list[Report]) -> None:
        """The exchange failed: report these hits again next time."""
        with self._lock:
            for report in reports:
                count = self._counts.get(report.key)
                if count is not None and count.window == report.window:
                    count.unsent += report.hits
                    count.reported = count.reported and not report.first

    def absorb(self, report: Report, total: int) -> None:
        """The shared count for ``report``'s window is ``total`` (every process's hits)."""
        with self._lock:
            count = self._counts.get(report.key)
            if count is not None and count.window == report.window:
                count.others = max(count.others, total - count.local + count.unsent)

    def unsent_values(self) -> dict[str, tuple[str, float]]:
        with self._lock:
            values, self._unsent_values = self._unsent_values, {}
        return values

    def learn_value(self, key: str, value: str, *, until: float) -> None:
        """Another process remembered ``value`` for ``key``."""
        with self._lock:
            self._values[key] = (value, until)

    # --- housekeeping ---------------------------------------------------------------------

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()
            self._values.clear()
            self._unsent_values.clear()

    def size(self) -> int:
        with self._lock:
            return len(self._counts) + len(self._values)

    def _maybe_prune(self, now: float) -> None:
        """Every 1,000 hits, drop what has expired (precondition: the lock is held), so the
        memory used stays proportional to the keys active in the last window."""
        self._since_prune += 1
        if self._since_prune < 1000:
            return
        self._since_prune = 0
        # A closed window's hits are never reported (see reports), so they can go too.
        self._counts = {
            key: count
            for key, count in self._counts.items()
            if count.window == int(now // count.length)
        }
        self._values = {key: found for key, found in self._values.items() if found[1] > now}
        self._unsent_values = {
            key: found for key, found in self._unsent_values.items() if found[1] > now
        }
