"""The one retry policy (techapi.retry): how long to wait after each attempt, and when to give up."""

from __future__ import annotations

import random

import pytest

from techapi.retry import RetryPolicy


class Jitter:
    """A stand-in for random.Random whose `uniform` always lands on one end of the range."""

    def __init__(self, end: str) -> None:
        self.end = end

    def uniform(self, low: float, high: float) -> float:
        return low if self.end == "low" else high


LOW, HIGH = Jitter("low"), Jitter("high")
POLICY = RetryPolicy(max_attempts=5, base_delay=0.5, max_delay=3.0)


@pytest.mark.parametrize("attempt, ceiling", [(1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (5, 3.0), (30, 3.0)])
def test_the_wait_after_an_attempt_lies_between_half_its_ceiling_and_the_ceiling(attempt, ceiling):
    assert POLICY.delay(attempt, LOW) == ceiling / 2
    assert POLICY.delay(attempt, HIGH) == ceiling


def test_the_ceiling_doubles_with_each_attempt_until_the_cap():
    assert [POLICY.delay(a, HIGH) for a in range(1, 7)] == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]


def test_an_attempt_number_below_one_waits_like_the_first():
    assert POLICY.delay(0, HIGH) == POLICY.delay(1, HIGH) == 0.5


def test_real_jitter_stays_within_the_bounds_and_spreads_the_waits():
    rng = random.Random(7)
    waits = [POLICY.delay(3, rng) for _ in range(200)]
    assert all(1.0 <= w <= 2.0 for w in waits)
    assert len(set(waits)) > 100


def test_the_defaults_are_five_attempts_from_half_a_second_capped_at_twenty():
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.base_delay, policy.max_delay) == (5, 0.5, 20.0)
    assert policy.delay(10, HIGH) == 20.0


def test_the_policy_is_exhausted_at_its_last_attempt_and_not_before():
    assert [POLICY.exhausted(a) for a in range(1, 7)] == [False, False, False, False, True, True]


def test_a_policy_of_one_attempt_never_retries():
    assert RetryPolicy(max_attempts=1).exhausted(1)


def test_a_very_late_attempt_waits_the_cap_instead_of_overflowing():
    policy = RetryPolicy(max_attempts=5000, base_delay=5.0, max_delay=900.0)
    assert 450.0 <= policy.delay(2000, random.Random(3)) <= 900.0
