"""Client-side token buckets, one per operation, so we stay inside SP-API's usage plans.

A bucket holds up to `burst` tokens and refills at `rate` per second, which is
exactly how SP-API describes its own limiter; taking a token before each call
means a healthy client is never throttled.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from techapi.spapi.plans import USAGE_PLANS, UsagePlan


class RateLimiter(Protocol):
    def acquire(self, operation: str) -> float:
        """Block until a call of `operation` may be sent; return seconds waited."""
        ...

    def penalise(self, operation: str) -> None:
        """SP-API throttled us anyway: empty the bucket so we slow down."""
        ...

    def observe_limit(self, operation: str, rate: float) -> None:
        """SP-API reported the rate it applies (x-amzn-RateLimit-Limit)."""
        ...


def cushion_tokens(cushion: float, rate: float, burst: int) -> float:
    """The cushion in tokens; never more than half the burst, so a small bucket
    still lets its first calls through at once."""
    return min(cushion * rate, burst / 2)


class TokenBucket:
    def __init__(
        self,
        rate: float,
        burst: int,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        cushion: float = 0.0,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.cushion = cushion
        self._monotonic = monotonic
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated = monotonic()
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def reserve(self) -> float:
        """Take a token now or in the future; return how long to wait for it.

        Reservations go negative, so concurrent callers queue fairly instead of
        all waking at once and racing for the same token. Near the edge the
        caller also waits out `cushion` seconds: the server's bucket started
        draining a network latency after ours, and latency jitters. That shifts
        the schedule by a constant, it does not lower the rate.
        """
        with self._lock:
            now = self._monotonic()
            self._refill(now)
            self._tokens -= 1
            edge = cushion_tokens(self.cushion, self.rate, self.burst)
            return 0.0 if self._tokens >= edge else (edge - self._tokens) / self.rate

    def try_take(self) -> bool:
        """Take a token only if one is there now (servers answer 429 instead of waiting)."""
        with self._lock:
            self._refill(self._monotonic())
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True

    def acquire(self) -> float:
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait

    def drain(self) -> None:
        with self._lock:
            self._refill(self._monotonic())
            self._tokens = min(self._tokens, 0.0)

    def set_rate(self, rate: float) -> None:
        with self._lock:
            self._refill(self._monotonic())
            self.rate = rate


# Seconds of margin at the edge of a bucket; see TokenBucket.reserve. It covers
# the jitter between taking a token and SP-API counting the request (network,
# a busy host, several processes sharing one bucket); it delays the schedule
# once by this much and never lowers the rate.
DEFAULT_CUSHION = 0.25


class LocalRateLimiter:
    """In-process buckets: the right default for one process talking to SP-API."""

    def __init__(
        self,
        plans: dict[str, UsagePlan] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        cushion: float = DEFAULT_CUSHION,
    ) -> None:
        self._plans = dict(USAGE_PLANS if plans is None else plans)
        self._cushion = cushion
        self._monotonic = monotonic
        self._sleep = sleep
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def set_plan(self, operation: str, plan: UsagePlan) -> None:
        """A different plan for one operation (an account with a raised usage plan)."""
        with self._lock:
            self._plans[operation] = plan
            self._buckets.pop(operation, None)

    def bucket(self, operation: str) -> TokenBucket:
        with self._lock:
            bucket = self._buckets.get(operation)
            if bucket is None:
                plan = self._plans.get(operation, UsagePlan(1, 1))
                bucket = TokenBucket(plan.rate, plan.burst, self._monotonic, self._sleep, self._cushion)
                self._buckets[operation] = bucket
            return bucket

    def acquire(self, operation: str) -> float:
        return self.bucket(operation).acquire()

    def penalise(self, operation: str) -> None:
        self.bucket(operation).drain()

    def observe_limit(self, operation: str, rate: float) -> None:
        bucket = self.bucket(operation)
        # Only ever slow down: a higher advertised rate may be a per-call quirk.
        if 0 < rate < bucket.rate:
            bucket.set_rate(rate)
