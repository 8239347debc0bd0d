"""Appointment slots, add, reschedule and assignment: the client against the sandbox over real HTTP."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from techapi.spapi import plans
from techapi.spapi.errors import SpApiForbidden, SpApiSlotUnavailable, SpApiUnprocessable
from techapi.spapi.ratelimit import LocalRateLimiter
from techapi.spapi.sandbox.seed import make_job
from techapi.spapi.scheduling_types import Availability
from tests.conftest import NOW, http_client

pytestmark = pytest.mark.db_independent  # CI runs it once, in the SQLite stage

WED = datetime(2026, 6, 24, tzinfo=UTC)  # a weekday with no seeded jobs
DAY = (WED, WED + timedelta(days=1))


def store_jobs(server, status: str, store: int = 0) -> list[str]:
    world = server.sandbox.world
    return [j.job_id for j in server.sandbox.state.jobs.values()
            if j.status == status and j.payload["storeId"] == world.store_ids[store]]


def open_one_technician(client, server) -> str:
    """The demo store open 08:00-18:00 on WED with room for one appointment at a time."""
    store_id = server.sandbox.world.demo_store_id
    client.update_schedule(store_id, [Availability(WED + timedelta(hours=8), WED + timedelta(hours=18), 1)])
    return store_id


def refusal(info: pytest.ExceptionInfo) -> str:
    return (info.value.message or "").split("reason : ")[-1]


def test_taking_the_last_slot_makes_the_next_add_and_reschedule_fail(http_sandbox):
    client = http_client(http_sandbox)
    open_one_technician(client, http_sandbox)
    pending = store_jobs(http_sandbox, "PENDING_SCHEDULE")
    active = store_jobs(http_sandbox, "NOT_SERVICED")
    first = client.get_job_appointment_slots(pending[0], *DAY).available()[0]
    assert first.start == WED + timedelta(hours=8) and first.capacity == 1
    result = client.add_appointment(pending[0], first.start)
    assert result.appointment_id.startswith(pending[0] + "_") and result.warnings == ()
    others = client.get_job_appointment_slots(pending[1], *DAY).slots
    assert [s.capacity for s in others if s.start < first.end] == [0] * len([s for s in others if s.start < first.end])
    assert others[0].start == first.start
    with pytest.raises(SpApiSlotUnavailable) as info:
        client.add_appointment(pending[1], first.start)
    assert refusal(info) == "Appointment slot is not available."
    with pytest.raises(SpApiSlotUnavailable) as info:
        client.reschedule_appointment(active[0], _active(client, active[0]), first.start, "RS4")
    assert refusal(info) == "Appointment slot is not available."
    # The job's own appointment does not stand in its way: it may move inside its slot.
    assert client.get_job_appointment_slots(pending[0], first.start, first.end).slots[0].capacity == 1


def test_rescheduling_into_the_last_free_slot_succeeds_once(http_sandbox):
    client = http_client(http_sandbox)
    open_one_technician(client, http_sandbox)
    one, two = store_jobs(http_sandbox, "NOT_SERVICED")[:2]
    slot = client.get_job_appointment_slots(one, *DAY).available()[-1]
    client.reschedule_appointment(one, _active(client, one), slot.start, "RS11")
    with pytest.raises(SpApiSlotUnavailable) as info:
        client.reschedule_appointment(two, _active(client, two), slot.start, "RS11")
    assert refusal(info) == "Appointment slot is not available."


def _active(client, job_id: str) -> str:
    appt = client.get_service_job(job_id).current_appointment
    assert appt is not None and appt.status == "ACTIVE"
    return appt.appointment_id


def test_reschedule_answers_a_new_appointment_and_unassigns_the_technicians(http_sandbox):
    client = http_client(http_sandbox)
    job_id = store_jobs(http_sandbox, "NOT_SERVICED")[0]
    before = client.get_service_job(job_id).current_appointment
    assert before is not None and before.technicians
    slot = client.get_job_appointment_slots(job_id, *DAY).available()[0]
    result = client.reschedule_appointment(job_id, before.appointment_id, slot.start, "RS4")
    assert result.appointment_id != before.appointment_id
    assert [w.code for w in result.warnings] == ["RESOURCES_UNASSIGNED"]
    assert result.unassigned_resources == tuple(t.technician_id for t in before.technicians)
    job = client.get_service_job(job_id)
    by_id = {a.appointment_id: a for a in job.appointments}
    assert by_id[before.appointment_id].status == "CANCELLED"
    assert job.current_appointment == by_id[result.appointment_id]
    assert job.current_appointment.start == slot.start and job.current_appointment.technicians == ()
    new_raw = next(a for a in job.raw["appointments"] if a["appointmentId"] == result.appointment_id)
    assert new_raw["rescheduledAppointmentId"] == before.appointment_id
    with pytest.raises(SpApiUnprocessable):  # the old appointment is no longer ACTIVE
        client.reschedule_appointment(job_id, before.appointment_id, slot.end, "RS4")


def test_reschedule_reason_codes_are_checked_for_the_job_marketplace(http_sandbox):
    client = http_client(http_sandbox)
    job_id = store_jobs(http_sandbox, "NOT_SERVICED")[0]
    slot = client.get_job_appointment_slots(job_id, *DAY).available()[0]
    for code in ("RS1", "RS3", "RS7", "RS8", "RS12", "DRS1", "U1"):  # none is in the US Default column
        with pytest.raises(SpApiUnprocessable) as info:
            client.reschedule_appointment(job_id, _active(client, job_id), slot.start, code)
        assert refusal(info) == "Appointment reschedule reason code is not valid."
    client.reschedule_appointment(job_id, _active(client, job_id), slot.start, "RS6")


def test_add_appointment_rules(http_sandbox):
    client = http_client(http_sandbox)
    pending = store_jobs(http_sandbox, "PENDING_SCHEDULE")[0]
    slot = client.get_job_appointment_slots(pending, *DAY).available()[0]
    minutes = int((slot.end - slot.start).total_seconds() // 60)
    cases = [
        (NOW - timedelta(hours=1), None, "Start time of appointment should be in the future."),
        (NOW + timedelta(days=366), None,
         "Start time for appointment is beyond the maximum allowed period of 365 days."),
        (slot.start + timedelta(minutes=15), None, "Appointment slot is not available."),
        (slot.start, minutes + 30, f"Appointment duration should be {minutes} minutes as configured for the service."),
        (WED + timedelta(hours=6), None, "Appointment slot is not available."),  # before opening
        (WED + timedelta(days=3, hours=10), None, "Appointment slot is not available."),  # Saturday
    ]
    for start, duration, reason in cases:
        with pytest.raises(SpApiUnprocessable) as info:
            client.add_appointment(pending, start, duration)
        assert refusal(info) == reason, (start, duration)
    client.add_appointment(pending, slot.start, minutes)
    assert client.get_service_job(pending).status == "NOT_SERVICED"
    with pytest.raises(SpApiUnprocessable) as info:
        client.add_appointment(pending, slot.end)
    assert refusal(info) == "Job already has an active appointmentId."
    completed = next(j.job_id for j in http_sandbox.sandbox.state.jobs.values() if j.status == "COMPLETED")
    with pytest.raises(SpApiUnprocessable) as info:
        client.add_appointment(completed, slot.start)
    assert info.value.message == f"Operation not allowed on job with jobId : {completed} and jobState : COMPLETED"
    headers = {"x-amz-access-token": client.tokens.get()}
    offset = httpx.post(f"{http_sandbox.url}/service/v1/serviceJobs/{pending}/appointments", headers=headers,
                        json={"appointmentTime": {"startTime": "2026-06-24T10:00:00.000+05:30"}})
    assert offset.status_code == 422
    assert offset.json()["errors"][0]["message"] == "ISO8601 time 2026-06-24T10:00:00.000+05:30 is not in UTC."


def test_another_providers_job_is_forbidden(http_sandbox):
    client = http_client(http_sandbox)
    job = make_job(random.Random(1), marketplace_id="ATVPDKIKX0DER", store_id=http_sandbox.sandbox.world.demo_store_id,
                   technician=None, start=None, status="PENDING_SCHEDULE", created=NOW)
    job["serviceJobProvider"] = {"serviceJobProviderId": "AOTHERPROVIDER"}
    http_sandbox.sandbox.state.add_job(job)
    with pytest.raises(SpApiForbidden):
        client.add_appointment(job["serviceJobId"], WED + timedelta(hours=8))


def test_slot_window_rules(http_sandbox):
    client = http_client(http_sandbox)
    job_id = store_jobs(http_sandbox, "PENDING_SCHEDULE")[0]
    with pytest.raises(ValueError):
        client.get_job_appointment_slots(job_id, WED, None)
    with pytest.raises(ValueError):
        client.get_job_appointment_slots(job_id, WED, WED + timedelta(days=91))
    headers = {"x-amz-access-token": client.tokens.get()}
    base = f"{http_sandbox.url}/service/v1/serviceJobs/{job_id}/appointmentSlots?marketplaceIds=ATVPDKIKX0DER"

    def message(query: str) -> str:
        response = httpx.get(base + query, headers=headers)
        assert response.status_code == 400
        return response.json()["errors"][0]["message"]

    assert message("&startTime=2026-06-24T00:00:00Z") == "Start Time and End Time should be provided together"
    assert message("&startTime=2026-06-24T00:00:00Z&endTime=2026-09-23T00:00:01Z") == \
        "Maximum range of appointment slots can be 90 days"
    assert message("&startTime=2026-06-24T05:00:00Z&endTime=2026-06-24T02:00:00Z") == \
        "End Time should be after Start Time"
    ninety = client.get_job_appointment_slots(job_id, WED, WED + timedelta(days=90))
    assert len(ninety.available()) > 0
    default = client.get_job_appointment_slots(job_id)
    assert default.slots and all(NOW < s.start and s.end <= NOW + timedelta(days=7) for s in default.slots)
    today = client.get_job_appointment_slots(job_id, NOW.replace(hour=0), NOW.replace(hour=23))
    assert all(s.start > NOW for s in today.slots)


def test_slots_by_asin_and_store_count_the_store_appointments(http_sandbox):
    client = http_client(http_sandbox)
    store_id = open_one_technician(client, http_sandbox)
    pending = store_jobs(http_sandbox, "PENDING_SCHEDULE")[0]
    asin = client.get_service_job(pending).scope["asin"]
    before = client.get_appointment_slots(asin, store_id, *DAY)
    assert before.scheduling_type == "REAL_TIME_SCHEDULING" and all(s.capacity == 1 for s in before.slots)
    client.add_appointment(pending, before.slots[0].start)
    after = client.get_appointment_slots(asin, store_id, *DAY)
    assert [s.capacity for s in after.slots] == [0] + [1] * (len(before.slots) - 1)
    with pytest.raises(SpApiUnprocessable):
        client.get_appointment_slots("B00UNKNOWN0", store_id, *DAY)


def test_assign_resources_replaces_the_technicians_and_checks_them(http_sandbox):
    client = http_client(http_sandbox)
    world = http_sandbox.sandbox.world
    job_id = store_jobs(http_sandbox, "NOT_SERVICED")[0]
    slot = client.get_job_appointment_slots(job_id, *DAY).available()[0]
    old = _active(client, job_id)
    new = client.reschedule_appointment(job_id, old, slot.start, "RS4").appointment_id
    home, away = world.technician_ids[1], world.technician_ids[3]  # store 0 has techs 0-2, store 1 has 3-5
    assert client.assign_appointment_resources(job_id, new, [home]) == ()
    appt = client.get_service_job(job_id).current_appointment
    assert [t.technician_id for t in appt.technicians] == [home]
    with pytest.raises(SpApiUnprocessable) as info:
        client.assign_appointment_resources(job_id, new, [away])
    assert info.value.code == "RESOURCES_NOT_AVAILABLE_IN_LOCATION" and away in info.value.message
    with pytest.raises(SpApiUnprocessable) as info:
        client.assign_appointment_resources(job_id, new, ["ANOSUCHTECH01"])
    assert info.value.message == "Invalid resourceId : ANOSUCHTECH01 provided in the input."
    with pytest.raises(SpApiUnprocessable) as info:
        client.assign_appointment_resources(job_id, old, [home])
    assert info.value.message == f"Appointment metadata update is not allowed for appointmentId {old}"


def test_assigning_a_technician_already_booked_then_warns_of_overbooking(http_sandbox):
    client = http_client(http_sandbox)
    state = http_sandbox.sandbox.state
    world = http_sandbox.sandbox.world
    tomorrow_jobs = [j for j in state.jobs.values() if j.status == "NOT_SERVICED"
                     and j.payload["appointments"][0]["appointmentTime"]["startTime"].startswith("2026-06-16T08:00")
                     and j.payload["storeId"] == world.demo_store_id]
    one, two = tomorrow_jobs[:2]
    busy = one.payload["appointments"][0]["assignedTechnicians"][0]["technicianId"]
    warnings = client.assign_appointment_resources(two.job_id, _active(client, two.job_id), [busy])
    assert [w.code for w in warnings] == ["RESOURCES_OVERBOOKED"]


def test_assignments_keep_to_one_request_a_second_and_are_never_throttled(http_sandbox):
    client = http_client(http_sandbox, limiter=LocalRateLimiter())
    world = http_sandbox.sandbox.world
    job_id = store_jobs(http_sandbox, "NOT_SERVICED")[0]
    appt = _active(client, job_id)
    started = time.monotonic()
    for tech in (world.technician_ids[0], world.technician_ids[1], world.technician_ids[2]):
        client.assign_appointment_resources(job_id, appt, [tech])
    elapsed = time.monotonic() - started
    assert http_sandbox.sandbox.state.calls_of(plans.ASSIGN_RESOURCES, 429) == 0
    assert http_sandbox.sandbox.state.calls_of(plans.ASSIGN_RESOURCES, 200) == 3
    assert elapsed >= 0.8  # a burst of two, then one a second
