"""Slots, adding and rescheduling appointments over HTTP, against the in-process sandbox."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from techapi.jobs.models import Job
from techapi.jobs.sync import upsert_jobs
from techapi.spapi import plans
from techapi.spapi.sandbox import Faults
from techapi.spapi.scheduling_types import Availability
from tests.conftest import NOW

TOMORROW = "2026-06-16"
WEDNESDAY_8 = datetime(2026, 6, 17, 8, 0, tzinfo=UTC)  # a day the demo world has no jobs on


@pytest.fixture
def settings(settings):
    # Two attempts per SP-API call: a test of an outage waits a fraction of a second, not several.
    return settings.with_overrides(spapi_max_attempts=2)


@pytest.fixture
def people(auth, world, synced):
    store, other_store = world.store_ids
    auth.user("tech", "technician", technician_id=world.technician_ids[0])
    auth.user("tech2", "technician", technician_id=world.technician_ids[1])
    auth.user("boss", "supervisor", stores=(store,), timezone="America/Los_Angeles")
    auth.user("boss2", "supervisor", stores=(other_store,))
    auth.user("root", "admin")
    return {name: auth.headers(name) for name in ("tech", "tech2", "boss", "boss2", "root")}


def todays_jobs(client, headers, day: str | None = None) -> list[dict]:
    query = f"?date={day}" if day else ""
    response = client.get(f"/v1/jobs{query}", headers=headers)
    assert response.status_code == 200
    return response.get_json()["jobs"]


@pytest.fixture
def late_job(client, people) -> str:
    """The technician's 16:30 UTC job today, still ahead of NOW."""
    jobs = todays_jobs(client, people["tech"])
    return next(j["serviceJobId"] for j in jobs if j["appointment"]["start"].startswith("2026-06-15T16:30"))


def all_calls(sandbox) -> int:
    with sandbox.state.lock:
        return sum(sandbox.state.calls.values())


def reschedule(client, headers, job_id, start, reason="RS4", **extra):
    body = {"start": start.isoformat() if isinstance(start, datetime) else start, "reasonCode": reason}
    return client.post(f"/v1/jobs/{job_id}/reschedule", json=body, headers={**headers, **extra})


def test_slots_are_in_the_callers_time_zone_and_in_utc(client, people, late_job):
    response = client.get(f"/v1/jobs/{late_job}/slots", headers=people["boss"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["timezone"] == "America/Los_Angeles" and body["slots"]
    first = body["slots"][0]
    assert first["startLocal"].endswith("-07:00") and first["start"].endswith("+00:00")
    assert datetime.fromisoformat(first["startLocal"]) == datetime.fromisoformat(first["start"])
    assert all(s["capacity"] > 0 and datetime.fromisoformat(s["start"]) > NOW for s in body["slots"])


def test_slot_answers_are_kept_a_minute_per_job_and_per_store(client, people, late_job, sandbox, clock):
    url = f"/v1/jobs/{late_job}/slots?from=2026-06-16T00:00:00Z&to=2026-06-17T00:00:00Z"
    assert client.get(url, headers=people["tech"]).status_code == 200
    assert client.get(url, headers=people["boss"]).status_code == 200
    assert sandbox.state.calls_of(plans.GET_JOB_APPOINTMENT_SLOTS) == 1
    clock.advance(seconds=61)
    assert client.get(url, headers=people["tech"]).status_code == 200
    assert sandbox.state.calls_of(plans.GET_JOB_APPOINTMENT_SLOTS) == 2

    asin = client.get(f"/v1/jobs/{late_job}", headers=people["tech"]).get_json()["scope"]["asin"]
    store_url = f"/v1/stores/{sandbox.world.store_ids[0]}/slots?asin={asin}"
    first = client.get(store_url, headers=people["boss"])
    assert first.status_code == 200 and first.get_json()["slots"]
    assert client.get(store_url, headers=people["root"]).status_code == 200
    assert sandbox.state.calls_of(plans.GET_APPOINTMENT_SLOTS) == 1
    clock.advance(seconds=61)
    assert client.get(store_url, headers=people["boss"]).status_code == 200
    assert sandbox.state.calls_of(plans.GET_APPOINTMENT_SLOTS) == 2


def test_slots_are_for_those_who_see_the_job_or_oversee_the_store(client, people, late_job, world):
    store_url = f"/v1/stores/{world.store_ids[0]}/slots?asin=B07TVMOUNT1"
    assert client.get(store_url, headers=people["boss2"]).status_code == 403
    assert client.get(store_url, headers=people["tech"]).status_code == 403
    assert client.get(f"/v1/jobs/{late_job}/slots", headers=people["boss2"]).status_code == 404
    assert client.get(f"/v1/jobs/{late_job}/slots", headers=people["tech2"]).status_code == 404
    assert client.get(f"/v1/stores/{'S' * 101}/slots?asin=B07TVMOUNT1", headers=people["root"]).status_code == 422
    too_long = client.get(f"/v1/jobs/{late_job}/slots?from=2026-06-16T00:00:00Z&to=2026-10-16T00:00:00Z",
                          headers=people["tech"])
    assert too_long.status_code == 422


def test_the_reason_picker_lists_the_marketplaces_codes(client, people, late_job):
    response = client.get(f"/v1/reschedule-reasons?serviceJobId={late_job}", headers=people["tech"])
    assert response.status_code == 200
    reasons = {r["code"]: r["description"] for r in response.get_json()["reasons"]}
    assert reasons["RS11"] == "Customer didn't show up" and "RS1" not in reasons  # RS1: DE heavy-bulky only
    assert client.get(f"/v1/reschedule-reasons?serviceJobId={late_job}",
                      headers=people["boss2"]).status_code == 404


def test_a_reason_code_not_valid_for_the_marketplace_is_refused_before_amazon_is_asked(
        client, people, late_job, sandbox):
    before = all_calls(sandbox)
    response = reschedule(client, people["tech"], late_job, WEDNESDAY_8, reason="RS1")
    assert response.status_code == 422
    assert "RS11" in response.get_json()["errors"]["validCodes"]
    assert all_calls(sandbox) == before


def test_the_last_free_slot_is_taken_once_and_the_next_attempt_gets_fresh_slots(
        client, people, late_job, deps, world):
    # The store has one unit per technician (3): a break of 2 leaves one unit on Wednesday.
    deps.spapi.create_reservation(world.store_ids[0], "BREAK",
                                  Availability(WEDNESDAY_8, WEDNESDAY_8.replace(hour=18), capacity=2))
    other = todays_jobs(client, people["tech2"])[-1]
    first = reschedule(client, people["boss"], late_job, WEDNESDAY_8)
    assert first.status_code == 200, first.get_json()
    booked = first.get_json()
    assert booked["appointment"]["start"].startswith("2026-06-17T08:00")
    assert [w["code"] for w in booked["warnings"]] == ["RESOURCES_UNASSIGNED"] and booked["technicianIds"] == []

    second = reschedule(client, people["boss"], other["serviceJobId"], WEDNESDAY_8)
    assert second.status_code == 409, second.get_json()
    fresh = second.get_json()["errors"]
    assert fresh["slots"] and not any(s["start"].startswith("2026-06-17T08:00") for s in fresh["slots"])
    unchanged = client.get(f"/v1/jobs/{other['serviceJobId']}", headers=people["tech2"]).get_json()
    assert unchanged["appointment"] == other["appointment"]


def tomorrows_slots(client, headers, job_id, world, deps) -> list[dict]:
    """Tomorrow is fully booked in the demo world: the store opens a fourth unit for it."""
    opening = datetime(2026, 6, 16, 8, 0, tzinfo=UTC)
    deps.spapi.update_schedule(world.store_ids[0], [Availability(opening, opening.replace(hour=18), capacity=4)])
    return client.get(f"/v1/jobs/{job_id}/slots?from=2026-06-16T00:00:00Z&to=2026-06-17T00:00:00Z",
                      headers=headers).get_json()["slots"]


def test_a_technician_rescheduled_to_tomorrow_loses_the_job_today_and_the_store_has_it_tomorrow(
        client, people, late_job, sandbox, world, deps):
    slots = tomorrows_slots(client, people["tech"], late_job, world, deps)
    start = slots[0]["start"]
    key = {"Idempotency-Key": "move-1"}
    response = reschedule(client, people["tech"], late_job, start, reason="RS11", **key)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["appointment"]["start"] == start and body["technicianIds"] == []
    assert world.technician_ids[0] in body["warnings"][0]["message"]
    again = reschedule(client, people["tech"], late_job, start, reason="RS11", **key)
    assert again.get_json() == body and sandbox.state.calls_of(plans.RESCHEDULE_APPOINTMENT) == 1

    assert late_job not in {j["serviceJobId"] for j in todays_jobs(client, people["tech"])}
    tomorrow = {j["serviceJobId"]: j for j in todays_jobs(client, people["boss"], TOMORROW)}
    assert tomorrow[late_job]["appointment"]["appointmentId"] == body["appointment"]["appointmentId"]
    history = client.get(f"/v1/jobs/{late_job}/history", headers=people["boss"]).get_json()["events"]
    moved = [e for e in history if e["action"] == "appointment.rescheduled"]
    assert len(moved) == 1 and moved[0]["actor"] == "tech"
    details = moved[0]["details"]
    assert details["reasonCode"] == "RS11" and details["oldStart"].startswith("2026-06-15T16:30")
    assert details["newAppointmentId"] == body["appointment"]["appointmentId"] != details["oldAppointmentId"]
    assert details["warnings"][0]["code"] == "RESOURCES_UNASSIGNED"


def test_another_technicians_job_is_not_found(client, people, late_job):
    assert reschedule(client, people["tech2"], late_job, WEDNESDAY_8).status_code == 404
    assert reschedule(client, people["boss2"], late_job, WEDNESDAY_8).status_code == 404


@pytest.fixture
def waiting_job(deps, sandbox, world, people) -> str:
    """A job of the first store with no appointment yet, as the sync writes it."""
    job_id = next(j.job_id for j in sandbox.state.jobs.values()
                  if j.status == "PENDING_SCHEDULE" and j.payload["storeId"] == world.store_ids[0])
    with deps.db.transaction() as session:
        upsert_jobs(session, [deps.spapi.get_service_job(job_id)], NOW)
    return job_id


def test_a_supervisor_books_a_job_waiting_for_an_appointment(client, people, waiting_job):
    url = f"/v1/jobs/{waiting_job}/appointments"
    body = {"start": WEDNESDAY_8.isoformat()}
    assert client.post(url, json=body, headers=people["boss2"]).status_code == 404
    assert client.post(url, json=body, headers=people["root"] | {"Idempotency-Key": "k"}).status_code == 200
    assert client.post(url, json=body, headers=people["boss"]).status_code == 409  # it has one now
    detail = client.get(f"/v1/jobs/{waiting_job}", headers=people["boss"]).get_json()
    assert detail["appointment"]["start"].startswith("2026-06-17T08:00")
    assert detail["appointment"]["status"] == "ACTIVE"
    events = client.get(f"/v1/jobs/{waiting_job}/history", headers=people["boss"]).get_json()["events"]
    assert [(e["action"], e["actor"]) for e in events] == [("appointment.added", "root")]
    assert events[0]["details"]["start"].startswith("2026-06-17T08:00")


def test_a_technician_does_not_add_appointments(client, people, late_job):
    response = client.post(f"/v1/jobs/{late_job}/appointments", json={"start": WEDNESDAY_8.isoformat()},
                           headers=people["tech"])
    assert response.status_code == 403


def test_amazon_unavailable_is_503_with_retry_after_and_nothing_changes(client, people, late_job, sandbox):
    before = client.get(f"/v1/jobs/{late_job}", headers=people["tech"]).get_json()
    sandbox.set_faults(Faults(error_rate=1.0, operations=(plans.RESCHEDULE_APPOINTMENT,)))
    response = reschedule(client, people["tech"], late_job, WEDNESDAY_8, **{"Idempotency-Key": "k1"})
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    assert sandbox.state.calls_of(plans.RESCHEDULE_APPOINTMENT) == 2  # the client's own retry, then given up
    assert client.get(f"/v1/jobs/{late_job}", headers=people["tech"]).get_json() == before
    assert client.get(f"/v1/jobs/{late_job}/history", headers=people["tech"]).get_json()["events"] == []
    sandbox.set_faults(Faults())
    retried = reschedule(client, people["tech"], late_job, WEDNESDAY_8, **{"Idempotency-Key": "k1"})
    assert retried.status_code == 200  # a 503 is not stored: the same key runs again


def test_an_answer_lost_after_amazon_rescheduled_is_still_a_success(client, people, late_job, sandbox):
    # SP-API moves the appointment, then answers 500; the client's retry is refused (no active
    # appointment any more). techapi looks again and finds the move done.
    sandbox.set_faults(Faults(error_after_commit_rate=1.0, operations=(plans.RESCHEDULE_APPOINTMENT,)))
    response = reschedule(client, people["boss"], late_job, WEDNESDAY_8)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["appointment"]["start"].startswith("2026-06-17T08:00")
    detail = client.get(f"/v1/jobs/{late_job}", headers=people["boss"]).get_json()
    assert detail["appointment"]["appointmentId"] == response.get_json()["appointment"]["appointmentId"]
    events = client.get(f"/v1/jobs/{late_job}/history", headers=people["boss"]).get_json()["events"]
    assert [e["action"] for e in events] == ["appointment.rescheduled"]


def test_a_rule_amazon_enforces_is_422_with_its_message(client, people, late_job, sandbox):
    response = client.post(f"/v1/jobs/{late_job}/reschedule", headers=people["tech"],
                           json={"start": WEDNESDAY_8.isoformat(), "durationMinutes": 7, "reasonCode": "RS4"})
    assert response.status_code == 422
    assert "duration should be" in response.get_json()["message"]
    assert sandbox.state.calls_of(plans.RESCHEDULE_APPOINTMENT) == 1


def test_a_supervisors_reschedule_counts_for_the_technician_sp_api_dropped(client, people, late_job, world, deps):
    # The technician is not on the new appointment (RESOURCES_UNASSIGNED): the report still finds them.
    slots = tomorrows_slots(client, people["boss"], late_job, world, deps)
    assert reschedule(client, people["boss"], late_job, slots[0]["start"], reason="RS11").status_code == 200
    report = client.get(f"/v1/reports/technicians?from=2026-06-15&to=2026-06-16&storeId={world.store_ids[0]}",
                        headers=people["boss"]).get_json()
    tech = next(t for t in report["technicians"] if t["technicianId"] == world.technician_ids[0])
    assert tech["rescheduledByReason"] == {"RS11": 1} and tech["noShows"] == 1
    others = [t for t in report["technicians"] if t["technicianId"] != world.technician_ids[0]]
    assert all(t["rescheduled"] == 0 for t in others)


def test_two_reschedules_of_one_appointment_at_once_are_recorded_once(client, people, late_job, world, deps):
    slots = tomorrows_slots(client, people["boss"], late_job, world, deps)
    with deps.db.session() as session:
        old = session.get(Job, late_job).appointment_id
    first = reschedule(client, people["boss"], late_job, slots[0]["start"], reason="RS4")
    assert first.status_code == 200
    # The second request read the job before the first was written: it sends the old appointment.
    with deps.db.transaction() as session:
        session.get(Job, late_job).appointment_id = old
    second = reschedule(client, people["boss"], late_job, slots[0]["start"], reason="RS4")
    assert second.status_code == 409, second.get_json()
    history = client.get(f"/v1/jobs/{late_job}/history", headers=people["boss"]).get_json()["events"]
    assert [e["action"] for e in history].count("appointment.rescheduled") == 1


def test_a_reschedule_whose_job_cannot_be_fetched_again_is_still_applied_here(
        client, people, late_job, world, deps, sandbox):
    slots = tomorrows_slots(client, people["boss"], late_job, world, deps)
    sandbox.set_faults(Faults(error_rate=1.0, operations=(plans.GET_SERVICE_JOB,)))
    moved = reschedule(client, people["boss"], late_job, slots[0]["start"], reason="RS4")
    sandbox.set_faults(Faults())
    assert moved.status_code == 200, moved.get_json()
    assert late_job not in {j["serviceJobId"] for j in todays_jobs(client, people["tech"])}
    waiting = client.get(f"/v1/jobs?date={TOMORROW}&needs=assignment", headers=people["boss"]).get_json()["jobs"]
    assert late_job in {j["serviceJobId"] for j in waiting}
