"""The one retry policy: exponential back-off from the attempt count, one cap,
equal jitter, and a number of attempts after which the caller gives up. SP-API
calls use it in seconds; background tasks in minutes."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt `attempt` (1 for the first):
        base * 2^(attempt-1), capped; half of it fixed, half random, so the
        retries of many callers after one outage spread out."""
        doublings = min(max(0, attempt - 1), 64)  # past the cap long before; 2.0**1024 would overflow
        ceiling = min(self.max_delay, self.base_delay * 2.0**doublings)
        return ceiling / 2 + rng.uniform(0, ceiling / 2)

    def exhausted(self, attempt: int) -> bool:
        """True when `attempt` was the last one allowed."""
        return attempt >= self.max_attempts
