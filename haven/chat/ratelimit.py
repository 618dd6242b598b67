"""A token bucket for one connection. Pure Python; the clock is passed in for tests."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    """Allows ``burst`` frames at once and ``rate`` frames per second after that.

    ``strikes`` counts refusals since the last allowed frame; the consumer closes a
    connection that keeps pushing after being told to slow down.
    """

    burst: int
    rate: float
    clock: Callable[[], float] = time.monotonic
    tokens: float = field(init=False)
    updated: float = field(init=False)
    strikes: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)
        self.updated = self.clock()

    def take(self) -> bool:
        """Spend one token if there is one. Returns whether the frame may go through."""
        now = self.clock()
        self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            self.strikes = 0
            return True
        self.strikes += 1
        return False

    def retry_after(self) -> float:
        """Seconds until the next token, rounded up to a tenth."""
        missing = max(0.0, 1.0 - self.tokens)
        if self.rate <= 0:
            return 60.0
        return math.ceil(missing / self.rate * 10 - 1e-9) / 10
