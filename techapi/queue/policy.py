"""The one retry policy of background tasks: exponential back-off from the
attempt count, one cap, jitter, and a number of attempts after which a task fails."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 5.0
    max_seconds: float = 900.0
    max_attempts: int = 8

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds before attempt `attempt + 1`: base * 2^(attempt-1), capped, with
        equal jitter (half fixed, half random) so retries of one outage spread out."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** max(0, attempt - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)

    def exhausted(self, attempt: int) -> bool:
        """True when `attempt` was the last one allowed."""
        return attempt >= self.max_attempts
