"""The estimated wait in the queue, from how fast it moved lately. Pure Python, no Django.

How it is worked out: in the last hour (``WINDOW_SECONDS``), counsellors accepted
``accepted`` conversations from the queue. At that pace one place in the queue takes
``WINDOW_SECONDS / accepted`` seconds, so a visitor at place ``p`` waits about ``p`` times
that (Little's law, with the last hour's pace as the pace to come). It is rounded up to
whole five minutes, and is at least five. With fewer than ``MIN_ACCEPTED`` accepts in the
hour there is too little to go on (the evening has just begun, or nobody is on duty), and
no estimate is given: the page then says nothing about time rather than guess.

The estimate is a hint for the visitor, never a promise: a surge, a long conversation or a
counsellor going off duty changes the pace at once, and the hour's pace follows late.
"""

from __future__ import annotations

import math

WINDOW_SECONDS = 3600.0
MIN_ACCEPTED = 3
# From this estimate on (or this long waited), the page adds a calm word on the long wait,
# with 112 and other places to turn.
LONG_WAIT_MINUTES = 15


def estimate_minutes(
    place: int, accepted: int, window_seconds: float = WINDOW_SECONDS
) -> int | None:
    """About how many minutes the visitor at ``place`` (1 = next) will wait, or None.

    Preconditions: ``accepted`` is the number of conversations accepted in the last
    ``window_seconds`` (> 0)."""
    if place < 1 or accepted < MIN_ACCEPTED:
        return None
    minutes = place * window_seconds / accepted / 60
    return max(5, 5 * math.ceil(minutes / 5))


def is_long(estimate: int | None) -> bool:
    return estimate is not None and estimate >= LONG_WAIT_MINUTES
