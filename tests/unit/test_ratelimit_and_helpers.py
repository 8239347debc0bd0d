"""Pure pieces: token bucket arithmetic, backoff, readiness, address lines, time parsing."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest

from techapi.clock import day_bounds, iso_z
from techapi.jobs.address import one_line
from techapi.jobs.readiness import Evidence, still_needed
from techapi.retry import RetryPolicy
from techapi.spapi.ratelimit import LocalRateLimiter, TokenBucket
from techapi.spapi.sandbox.rules import parse_time


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_bucket_allows_its_burst_then_spaces_calls_at_its_rate():
    t = FakeTime()
    bucket = TokenBucket(rate=5, burst=20, monotonic=t.monotonic, sleep=t.sleep)
    for _ in range(20):
        assert bucket.acquire() == 0
    for _ in range(10):
        bucket.acquire()
    assert t.now == pytest.approx(10 / 5)


def test_the_cushion_delays_only_at_the_edge_and_keeps_the_rate():
    t = FakeTime()
    bucket = TokenBucket(rate=10, burst=5, monotonic=t.monotonic, sleep=t.sleep, cushion=0.05)
    for _ in range(105):
        bucket.acquire()
    # 100 calls beyond the burst at 10/s is 10 s; the cushion adds 50 ms once, not per call.
    assert t.now == pytest.approx(10.05, abs=1e-6)


def test_a_bucket_refills_to_its_burst_and_no_further():
    t = FakeTime()
    bucket = TokenBucket(rate=1, burst=3, monotonic=t.monotonic, sleep=t.sleep)
    for _ in range(3):
        bucket.acquire()
    t.now += 100
    assert all(bucket.try_take() for _ in range(3))
    assert not bucket.try_take()


def test_a_lower_advertised_rate_is_adopted_a_higher_one_ignored():
    limiter = LocalRateLimiter()
    limiter.observe_limit("getServiceJobs", 2.0)
    assert limiter.bucket("getServiceJobs").rate == 2.0
    limiter.observe_limit("getServiceJobs", 50.0)
    assert limiter.bucket("getServiceJobs").rate == 2.0


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    policy = RetryPolicy(base_delay=0.5, max_delay=8)
    rng = random.Random(1)
    delays = [policy.delay(a, rng) for a in range(1, 9)]
    for attempt, delay in enumerate(delays, start=1):
        ceiling = min(8, 0.5 * 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert max(delays) <= 8


def test_still_needed_lists_what_is_missing_for_an_open_job():
    assert still_needed("NOT_SERVICED", "ACTIVE", Evidence()) == ["START_TIME", "END_TIME", "POA_DOCUMENT"]
    ready = Evidence(has_start=True, has_end=True, poa_documents=1)
    assert still_needed("NOT_SERVICED", "ACTIVE", ready) == []
    assert still_needed("NOT_SERVICED", "ACTIVE", ready, min_photos=2) == ["PHOTOS"]
    assert still_needed("NOT_SERVICED", None, ready) == ["ACTIVE_APPOINTMENT"]
    assert still_needed("COMPLETED", "COMPLETED", Evidence()) == []


def test_one_line_address():
    assert one_line({"name": "A", "addressLine1": "12 Pine St", "addressLine2": "Apt 4", "city": "Seattle",
                     "stateOrRegion": "WA", "postalCode": "98101", "countryCode": "US"}) == \
        "12 Pine St, Apt 4, Seattle, WA 98101"
    assert one_line({"addressLine1": "1 High St", "city": "Leeds", "postalCode": "LS1", "countryCode": "GB"}) == \
        "1 High St, Leeds, LS1, GB"


def test_iso_z_is_utc_with_milliseconds():
    assert iso_z(datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)) == "2026-01-02T03:04:05.678Z"


def test_strict_time_parsing_rejects_what_spapi_rejects():
    assert parse_time("2021-01-01T10:00:00.000Z") is not None
    assert parse_time("2021-01-01T10-00:00.000Z") is None
    assert parse_time("TEST_CASE_400") is None


def test_day_bounds_follow_daylight_saving():
    lo, hi = day_bounds(date(2026, 3, 8), "America/Los_Angeles")  # spring forward: a 23-hour day
    assert (hi - lo).total_seconds() == 23 * 3600
