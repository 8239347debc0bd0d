"""Which of a service job's appointments is the current one (spapi.types), from
job payloads shaped as SP-API sends them."""

from __future__ import annotations

from typing import Any

from techapi.spapi.types import parse_service_job


def appointment(appointment_id: str, start: str, status: str | None) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "appointmentId": appointment_id,
        "appointmentTime": {"startTime": start, "durationInMinutes": 60},
        "assignedTechnicians": [{"technicianId": f"TECH-{appointment_id}"}],
    }
    if status is not None:
        raw["appointmentStatus"] = status
    return raw


def current(job_status: str, *appointments: dict[str, Any]) -> str | None:
    job = parse_service_job({"serviceJobId": "J1", "serviceJobStatus": job_status,
                             "appointments": list(appointments)})
    found = job.current_appointment
    return found.appointment_id if found else None


def test_an_active_appointment_wins_over_a_later_completed_one():
    assert current("NOT_SERVICED",
                   appointment("done", "2026-06-15T16:00:00Z", "COMPLETED"),
                   appointment("active", "2026-06-15T09:00:00Z", "ACTIVE")) == "active"


def test_the_completed_appointment_counts_when_none_is_active():
    assert current("COMPLETED",
                   appointment("moved", "2026-06-15T16:00:00Z", "CANCELLED"),
                   appointment("done", "2026-06-15T09:00:00Z", "COMPLETED")) == "done"


def test_of_several_active_appointments_the_latest_counts_whatever_their_order():
    assert current("NOT_SERVICED",
                   appointment("early", "2026-06-15T09:00:00Z", "ACTIVE"),
                   appointment("late", "2026-06-15T16:00:00Z", "ACTIVE"),
                   appointment("middle", "2026-06-15T12:00:00Z", "ACTIVE")) == "late"


def test_the_latest_is_judged_in_utc_across_offsets():
    # 10:00 at UTC-8 is 18:00 UTC, later than 17:00 UTC.
    assert current("NOT_SERVICED",
                   appointment("pacific", "2026-06-15T10:00:00-08:00", "ACTIVE"),
                   appointment("utc", "2026-06-15T17:00:00Z", "ACTIVE")) == "pacific"


def test_a_rescheduled_away_appointment_never_counts_for_a_job_still_open():
    assert current("NOT_SERVICED",
                   appointment("old", "2026-06-15T16:00:00Z", "CANCELLED"),
                   appointment("new", "2026-06-15T09:00:00Z", "ACTIVE")) == "new"
    assert current("NOT_SERVICED", appointment("old", "2026-06-15T16:00:00Z", "CANCELLED")) is None


def test_a_cancelled_appointment_of_a_cancelled_job_is_its_current_one():
    assert current("CANCELLED",
                   appointment("first", "2026-06-15T09:00:00Z", "CANCELLED"),
                   appointment("second", "2026-06-15T12:00:00Z", "CANCELLED")) == "second"


def test_appointments_without_a_status_count_as_the_listings_omit_it():
    assert current("NOT_SERVICED", appointment("plain", "2026-06-15T09:00:00Z", None)) == "plain"


def test_a_labelled_appointment_wins_over_one_without_a_status():
    assert current("NOT_SERVICED",
                   appointment("plain", "2026-06-15T16:00:00Z", None),
                   appointment("active", "2026-06-15T09:00:00Z", "ACTIVE")) == "active"


def test_an_appointment_without_a_status_counts_even_beside_a_rescheduled_away_one():
    assert current("NOT_SERVICED",
                   appointment("moved", "2026-06-15T16:00:00Z", "CANCELLED"),
                   appointment("plain", "2026-06-15T09:00:00Z", None)) == "plain"


def test_an_appointment_without_a_status_is_not_current_on_a_cancelled_job():
    assert current("CANCELLED", appointment("plain", "2026-06-15T09:00:00Z", None)) is None


def test_a_job_without_appointments_has_no_current_one():
    assert current("NOT_SERVICED") is None
    assert parse_service_job({"serviceJobId": "J1", "serviceJobStatus": "NOT_SERVICED"}).current_appointment is None


def test_the_current_appointment_carries_its_time_and_technicians():
    job = parse_service_job({"serviceJobId": "J1", "serviceJobStatus": "NOT_SERVICED", "appointments": [
        {"appointmentId": "A1", "appointmentStatus": "ACTIVE",
         # The guide's listings send the duration as a string.
         "appointmentTime": {"startTime": "2026-06-15T09:00:00Z", "durationInMinutes": "90"},
         "assignedTechnicians": [{"technicianId": "T1", "name": "Ana"}]}]})
    found = job.current_appointment
    assert found is not None
    assert found.start.isoformat() == "2026-06-15T09:00:00+00:00"
    assert found.end.isoformat() == "2026-06-15T10:30:00+00:00"
    assert [(t.technician_id, t.name) for t in found.technicians] == [("T1", "Ana")]
