"""The rules for a recorded start or finish (evidence.times.check_time), on a job
and time records built in memory: no database, no request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from techapi.errors import ConflictError, StartNotRecorded, ValidationError
from techapi.evidence.models import TimeKind, TimeRecord
from techapi.evidence.times import check_time
from techapi.jobs.models import Job

NOW = datetime(2026, 6, 15, 15, 0, tzinfo=UTC)
START = datetime(2026, 6, 15, 14, 0, tzinfo=UTC)  # the appointment: 14:00 to 16:00
END = datetime(2026, 6, 15, 16, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)
LATER = END + timedelta(days=2)  # a "now" late enough that the future rule stays out of the way


def job(start: datetime | None = START, end: datetime | None = END) -> Job:
    return Job(service_job_id="J1", status="NOT_SERVICED", appointment_start=start, appointment_end=end)


def recorded(kind: TimeKind, at: datetime) -> TimeRecord:
    return TimeRecord(service_job_id="J1", kind=kind, at=at, received_at=at, source="api", version=1)


def refusal(kind: TimeKind, at: datetime, now: datetime = NOW, on: Job | None = None,
            other: TimeRecord | None = None) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        check_time(kind, at, now, on or job(), other)
    return info.value


# The future -------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(TimeKind))
def test_a_time_up_to_five_minutes_ahead_of_the_server_is_accepted(kind):
    other = recorded(TimeKind.START, START) if kind == TimeKind.FINISH else None
    check_time(kind, NOW + timedelta(minutes=5), NOW, job(), other)


@pytest.mark.parametrize("kind", list(TimeKind))
def test_a_time_more_than_five_minutes_ahead_is_refused_as_in_the_future(kind):
    error = refusal(kind, NOW + timedelta(minutes=5) + TICK)
    assert error.errors == {"json": {"at": ["in the future"]}}
    assert "more than 5 minutes in the future" in error.message
    assert error.message.startswith("Start" if kind == TimeKind.START else "Finish")


def test_the_future_is_checked_before_the_missing_start():
    error = refusal(TimeKind.FINISH, NOW + timedelta(hours=1))
    assert error.errors == {"json": {"at": ["in the future"]}}


# The appointment's 12-hour slack ------------------------------------------------


def test_a_start_exactly_twelve_hours_before_the_appointment_is_accepted():
    check_time(TimeKind.START, START - timedelta(hours=12), NOW, job(), None)


def test_a_start_more_than_twelve_hours_before_the_appointment_is_refused():
    error = refusal(TimeKind.START, START - timedelta(hours=12) - TICK)
    assert error.errors == {"json": {"at": ["far outside the appointment"]}}
    assert START.isoformat() in error.message and END.isoformat() in error.message


def test_a_finish_exactly_twelve_hours_after_the_appointment_end_is_accepted():
    check_time(TimeKind.FINISH, END + timedelta(hours=12), LATER, job(), recorded(TimeKind.START, START))


def test_a_finish_more_than_twelve_hours_after_the_appointment_end_is_refused():
    error = refusal(TimeKind.FINISH, END + timedelta(hours=12) + TICK, now=LATER,
                    other=recorded(TimeKind.START, START))
    assert error.errors == {"json": {"at": ["far outside the appointment"]}}


def test_without_an_appointment_end_the_slack_is_counted_from_its_start():
    no_end = job(end=None)
    check_time(TimeKind.START, START + timedelta(hours=12), LATER, no_end, None)
    error = refusal(TimeKind.START, START + timedelta(hours=12) + TICK, now=LATER, on=no_end)
    assert error.errors == {"json": {"at": ["far outside the appointment"]}}
    # The message shows the appointment as starting and ending at its start.
    assert f"({START.isoformat()} to {START.isoformat()})" in error.message


def test_the_slack_after_the_appointment_counts_from_its_end_not_its_start():
    # 13 hours after the start, 11 after the end: inside the slack.
    check_time(TimeKind.START, START + timedelta(hours=13), LATER, job(), None)


def test_a_job_without_an_appointment_takes_any_time_in_the_past():
    check_time(TimeKind.START, NOW - timedelta(days=30), NOW, job(start=None, end=None), None)


# Start and finish -------------------------------------------------------------


def test_a_finish_without_a_start_is_refused_as_start_not_recorded():
    with pytest.raises(StartNotRecorded) as info:
        check_time(TimeKind.FINISH, NOW, NOW, job(), None)
    assert isinstance(info.value, ConflictError) and info.value.status == 409


def test_a_finish_before_the_start_is_refused_with_the_field_error():
    start = recorded(TimeKind.START, NOW - timedelta(minutes=30))
    error = refusal(TimeKind.FINISH, start.at - TICK, other=start)
    assert error.errors == {"json": {"at": ["before the start"]}}
    assert start.at.isoformat() in error.message


def test_a_finish_at_the_very_moment_of_the_start_is_accepted():
    start = recorded(TimeKind.START, NOW - timedelta(minutes=30))
    check_time(TimeKind.FINISH, start.at, NOW, job(), start)


def test_a_start_after_the_finish_is_refused_with_the_field_error():
    finish = recorded(TimeKind.FINISH, NOW - timedelta(minutes=30))
    error = refusal(TimeKind.START, finish.at + TICK, other=finish)
    assert error.errors == {"json": {"at": ["after the finish"]}}
    assert finish.at.isoformat() in error.message


def test_a_start_at_the_very_moment_of_the_finish_is_accepted():
    finish = recorded(TimeKind.FINISH, NOW - timedelta(minutes=30))
    check_time(TimeKind.START, finish.at, NOW, job(), finish)


def test_a_start_needs_no_finish():
    check_time(TimeKind.START, NOW - timedelta(minutes=30), NOW, job(), None)
