"""Offline replay's view of a wrong device clock: the skew estimate and the
correction it leads to (offline.services)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from techapi.offline.services import Skew, corrected_input, estimate_skew

RECEIVED = datetime(2026, 6, 15, 15, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def test_a_device_clock_ahead_of_the_server_gives_a_positive_skew():
    skew = estimate_skew(RECEIVED + timedelta(minutes=10), RECEIVED)
    assert skew == Skew(600.0, corrected=True)


def test_a_device_clock_behind_the_server_gives_a_negative_skew():
    skew = estimate_skew(RECEIVED - timedelta(minutes=10), RECEIVED)
    assert skew == Skew(-600.0, corrected=True)


@pytest.mark.parametrize("off", [timedelta(0), timedelta(seconds=60), -timedelta(seconds=60)])
def test_a_skew_up_to_sixty_seconds_either_way_is_tolerated(off):
    skew = estimate_skew(RECEIVED + off, RECEIVED)
    assert skew.seconds == off.total_seconds() and not skew.corrected


@pytest.mark.parametrize("off", [timedelta(seconds=60) + TICK, -timedelta(seconds=60) - TICK])
def test_a_skew_just_past_sixty_seconds_either_way_is_corrected(off):
    assert estimate_skew(RECEIVED + off, RECEIVED).corrected


def test_the_device_offset_is_taken_into_account():
    # 17:00 at UTC+2 is the server's 15:00: no skew at all.
    sent = datetime(2026, 6, 15, 17, 0, tzinfo=timezone(timedelta(hours=2)))
    assert estimate_skew(sent, RECEIVED) == Skew(0.0, corrected=False)


def test_a_tolerated_skew_leaves_the_device_time_alone():
    device_at = RECEIVED - timedelta(minutes=20)
    given = corrected_input(device_at, Skew(45.0, corrected=False))
    assert given.device_at == device_at
    assert given.corrected_at is None and given.clock_skew_seconds is None


def test_a_device_ahead_has_its_times_moved_back_by_the_skew():
    device_at = RECEIVED - timedelta(minutes=20)
    given = corrected_input(device_at, Skew(600.0, corrected=True))
    assert given.corrected_at == device_at - timedelta(minutes=10)
    assert given.device_at == device_at and given.clock_skew_seconds == 600.0


def test_a_device_behind_has_its_times_moved_forward_by_the_skew():
    device_at = RECEIVED - timedelta(minutes=20)
    given = corrected_input(device_at, Skew(-600.0, corrected=True))
    assert given.corrected_at == device_at + timedelta(minutes=10)


def test_a_corrected_time_is_utc_and_the_device_value_keeps_its_offset():
    local = timezone(timedelta(hours=-7))
    device_at = datetime(2026, 6, 15, 8, 0, tzinfo=local)
    given = corrected_input(device_at, Skew(90.0, corrected=True))
    assert given.corrected_at == datetime(2026, 6, 15, 14, 58, 30, tzinfo=UTC)
    assert given.corrected_at.utcoffset() == timedelta(0)
    assert given.device_at is device_at and given.device_at.utcoffset() == timedelta(hours=-7)
