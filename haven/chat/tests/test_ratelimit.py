"""The token bucket, on a hand-driven clock."""

from haven.chat.ratelimit import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill_at_the_rate() -> None:
    """Three at once, then one more per second; refusals count as strikes until one passes."""
    clock = FakeClock()
    bucket = TokenBucket(burst=3, rate=1.0, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    assert bucket.strikes == 1
    assert bucket.retry_after() == 1.0
    clock.now += 0.5
    assert not bucket.take()
    assert bucket.strikes == 2
    clock.now += 0.5
    assert bucket.take()
    assert bucket.strikes == 0


def test_tokens_never_exceed_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(burst=2, rate=10.0, clock=clock)
    clock.now += 3600
    assert [bucket.take() for _ in range(3)] == [True, True, False]
