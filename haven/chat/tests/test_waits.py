"""The estimated wait: place times the last hour's pace, rounded up to five minutes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from haven.chat.waits import LONG_WAIT_MINUTES, MIN_ACCEPTED, estimate_minutes, is_long


def test_place_times_the_pace_rounded_up_to_five_minutes() -> None:
    """12 accepted in an hour: 5 minutes a place."""
    assert estimate_minutes(1, 12) == 5
    assert estimate_minutes(2, 12) == 10
    assert estimate_minutes(3, 12) == 15
    assert estimate_minutes(1, 60) == 5  # a minute, but never less than five
    assert estimate_minutes(7, 6) == 70  # ten minutes a place
    assert estimate_minutes(4, 7) == 35  # 34.3 minutes, rounded up


def test_no_estimate_without_enough_to_go_on() -> None:
    """Fewer than three accepts in the hour (or no place): no estimate, rather than a guess."""
    assert estimate_minutes(1, MIN_ACCEPTED - 1) is None
    assert estimate_minutes(1, 0) is None
    assert estimate_minutes(0, 12) is None


def test_a_long_wait() -> None:
    assert not is_long(None)
    assert not is_long(LONG_WAIT_MINUTES - 5)
    assert is_long(LONG_WAIT_MINUTES)


@given(st.integers(1, 500), st.integers(MIN_ACCEPTED, 5000))
def test_the_estimate_grows_with_the_place_and_shrinks_with_the_pace(
    place: int, accepted: int
) -> None:
    """Property: further back waits at least as long; a faster queue never waits longer;
    the estimate is a whole five minutes and not below the exact figure."""
    here = estimate_minutes(place, accepted)
    assert here is not None and here % 5 == 0 and here >= 5
    assert here >= place * 60 / accepted
    assert estimate_minutes(place + 1, accepted) >= here  # type: ignore[operator]
    assert estimate_minutes(place, accepted + 1) <= here  # type: ignore[operator]
