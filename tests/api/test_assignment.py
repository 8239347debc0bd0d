"""Assigning technicians: PUT /v1/jobs/{id}/technicians through the queue, what the
job and the technicians' lists show afterwards, and the supervisor's `needs=assignment`."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from techapi.jobs.models import Job
from techapi.jobs.sync import sync_day
from techapi.queue.models import Task, TaskState
from techapi.spapi import plans
from techapi.spapi.sandbox import Faults
from techapi.worker.runner import Worker
from tests.conftest import NOW

DAY = NOW.date().isoformat()


@pytest.fixture
def people(auth, world, unassigned_job, synced):
    first, second, third, elsewhere = (world.technician_ids[i] for i in (0, 1, 2, 3))
    auth.user("tech", "technician", technician_id=first, stores=(world.store_ids[0],))
    auth.user("tech2", "technician", technician_id=second, stores=(world.store_ids[0],))
    auth.user("boss", "supervisor", stores=(world.store_ids[0],))
    auth.user("boss2", "supervisor", stores=(world.store_ids[1],))
    auth.user("admin", "admin")
    heads = {name: auth.headers(name) for name in ("tech", "tech2", "boss", "boss2", "admin")}
    return {**heads, "ids": {"tech": first, "tech2": second, "third": third, "elsewhere": elsewhere}}


@pytest.fixture
def job_id(client, people) -> str:
    """The first technician's 16:30 job today (after NOW)."""
    jobs = client.get("/v1/jobs", headers=people["tech"]).get_json()["jobs"]
    return next(j["serviceJobId"] for j in jobs if j["appointment"]["start"].startswith(f"{DAY}T16:30"))


def assign(client, headers, job_id, ids, **extra_headers):
    return client.put(f"/v1/jobs/{job_id}/technicians", json={"technicianIds": ids},
                      headers={**headers, **extra_headers})


def listed(client, headers, **query) -> list[str]:
    response = client.get("/v1/jobs", headers=headers, query_string={"date": DAY, **query})
    assert response.status_code == 200, response.get_json()
    return [j["serviceJobId"] for j in response.get_json()["jobs"]]


def actions(client, headers, job_id, prefix="technicians.") -> list[tuple[str, dict]]:
    events = client.get(f"/v1/jobs/{job_id}/history", headers=headers).get_json()["events"]
    return [(e["action"], e["details"]) for e in events if e["action"].startswith(prefix)]


def upstream_technicians(sandbox, job_id) -> list[str]:
    appointment = sandbox.state.jobs[job_id].payload["appointments"][-1]
    return [t["technicianId"] for t in appointment.get("assignedTechnicians") or []]


def test_after_an_assignment_the_new_technician_lists_the_job_for_that_day(app, client, people, job_id, sandbox):
    ids = people["ids"]
    response = assign(client, people["boss"], job_id, [ids["tech2"]])
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["status"] == "PENDING" and body["technicianIds"] == [ids["tech2"]] and body["error"] is None
    assert job_id not in listed(client, people["tech2"])  # nothing is sent before the worker runs
    assert upstream_technicians(sandbox, job_id) == [ids["tech"]]

    assert Worker(app).drain(max_seconds=30) == 0
    assert upstream_technicians(sandbox, job_id) == [ids["tech2"]]
    assert job_id in listed(client, people["tech2"])  # at once, no sync in between
    assert job_id not in listed(client, people["tech"])
    detail = client.get(f"/v1/jobs/{job_id}", headers=people["tech2"]).get_json()
    assert detail["assignment"] == {"status": "DONE", "technicianIds": [ids["tech2"]], "error": None,
                                    "requestedAt": body["requestedAt"]}
    assert [t["technicianId"] for t in detail["technicians"]] == [ids["tech2"]]
    assert detail["technicians"][0]["name"]  # the name SP-API gave them on their other jobs
    state = client.get(f"/v1/jobs/{job_id}/technicians", headers=people["boss"]).get_json()
    assert state["assignment"]["status"] == "DONE" and state["assignment"]["doneAt"]
    assert [t["technicianId"] for t in state["technicians"]] == [ids["tech2"]]
    appointment_id = detail["appointment"]["appointmentId"]
    assert actions(client, people["boss"], job_id) == [
        ("technicians.assignment_requested", {"technicianIds": [ids["tech2"]], "replaced": False}),
        # tech2 has a job of their own at 16:30: SP-API assigns and warns.
        ("technicians.assigned", {"technicianIds": [ids["tech2"]], "appointmentId": appointment_id, "warnings": [
            {"code": "RESOURCES_OVERBOOKED", "message": "Resources overbooked for this time window."}]}),
    ]


def test_a_second_assignment_while_pending_replaces_the_first_which_is_never_sent(
        app, client, people, job_id, sandbox):
    ids = people["ids"]
    assert assign(client, people["boss"], job_id, [ids["tech2"]]).status_code == 202
    second = assign(client, people["admin"], job_id, [ids["third"], ids["tech"]])
    assert second.status_code == 202 and second.get_json()["technicianIds"] == [ids["third"], ids["tech"]]
    assert Worker(app).drain(max_seconds=30) == 0
    assert sandbox.state.calls_of(plans.ASSIGN_RESOURCES) == 1
    assert upstream_technicians(sandbox, job_id) == [ids["third"], ids["tech"]]
    assert job_id not in listed(client, people["tech2"])
    assert [a for a, _ in actions(client, people["boss"], job_id)] == [
        "technicians.assignment_requested", "technicians.assignment_requested", "technicians.assigned"]
    assert actions(client, people["boss"], job_id)[1][1] == {"technicianIds": [ids["third"], ids["tech"]],
                                                             "replaced": True}
    with app.extensions["techapi"].db.session() as session:
        assert session.scalar(select(Task.state).where(Task.kind == "assign_technicians")) == TaskState.DONE


def test_a_request_replaced_while_its_call_is_in_flight_is_sent_again(app, client, people, job_id, sandbox):
    ids = people["ids"]
    assert assign(client, people["boss"], job_id, [ids["tech2"]]).status_code == 202
    sandbox.set_faults(Faults(latency_seconds=0.8, operations=(plans.ASSIGN_RESOURCES,)))
    worker = threading.Thread(target=Worker(app).run_one)
    worker.start()
    deadline = time.monotonic() + 10
    with app.extensions["techapi"].db.session() as session:
        while time.monotonic() < deadline and session.scalar(select(Task.state)) != TaskState.RUNNING:
            session.rollback()
            time.sleep(0.02)
    time.sleep(0.25)  # the first call is on its way now (0.8 s to its answer)
    assert assign(client, people["boss"], job_id, [ids["third"]]).status_code == 202
    worker.join(timeout=30)
    assert sandbox.state.calls_of(plans.ASSIGN_RESOURCES) == 2
    assert upstream_technicians(sandbox, job_id) == [ids["third"]]
    state = client.get(f"/v1/jobs/{job_id}/technicians", headers=people["boss"]).get_json()
    assert state["assignment"]["status"] == "DONE" and state["assignment"]["technicianIds"] == [ids["third"]]
    assert [t["technicianId"] for t in state["technicians"]] == [ids["third"]]


def test_an_assignment_spapi_refuses_is_failed_with_its_message(app, client, auth, people, job_id, sandbox):
    # An account made with a technicianId SP-API does not know.
    auth.user("typo", "technician", technician_id="ATYPOTECH00001", stores=(sandbox.world.store_ids[0],))
    assert assign(client, people["boss"], job_id, ["ATYPOTECH00001"]).status_code == 202
    assert Worker(app).drain(max_seconds=30) == 1
    message = "Invalid resourceId : ATYPOTECH00001 provided in the input."
    state = client.get(f"/v1/jobs/{job_id}/technicians", headers=people["boss"]).get_json()
    assert state["assignment"]["status"] == "FAILED" and state["assignment"]["error"] == message
    assert client.get(f"/v1/jobs/{job_id}", headers=people["boss"]).get_json()["assignment"]["error"] == message
    assert [t["technicianId"] for t in state["technicians"]] == [people["ids"]["tech"]]  # unchanged
    assert actions(client, people["boss"], job_id)[-1] == (
        "technicians.assignment_failed", {"technicianIds": ["ATYPOTECH00001"], "reason": message})
    assert job_id in listed(client, people["boss"], needs="assignment")
    # Trying again after a failure is a new request.
    assert assign(client, people["boss"], job_id, [people["ids"]["tech2"]]).get_json()["status"] == "PENDING"
    assert job_id not in listed(client, people["boss"], needs="assignment")


def test_unknown_technicians_empty_lists_and_jobs_without_an_active_appointment_are_refused_before_queueing(
        app, client, deps, people, job_id, sandbox, world):
    ids = people["ids"]
    other_store = assign(client, people["boss"], job_id, [ids["elsewhere"]])
    assert other_store.status_code == 422 and ids["elsewhere"] in other_store.get_json()["message"]
    assert assign(client, people["boss"], job_id, ["ANOBODY0000001"]).status_code == 422
    assert assign(client, people["boss"], job_id, []).status_code == 422
    assert assign(client, people["boss"], job_id, ["bad id!"]).status_code == 422
    assert client.put(f"/v1/jobs/{job_id}/technicians", json={}, headers=people["boss"]).status_code == 422
    sync_day(deps, NOW.date() - timedelta(days=1))
    yesterday = client.get("/v1/jobs", headers=people["boss"], query_string={
        "date": (NOW.date() - timedelta(days=1)).isoformat()}).get_json()["jobs"]
    completed = next(j["serviceJobId"] for j in yesterday if j["status"] == "COMPLETED")
    refused = assign(client, people["boss"], completed, [ids["tech2"]])
    assert refused.status_code == 409 and "no active appointment" in refused.get_json()["message"]
    with deps.db.session() as session:
        assert session.scalar(select(Task.id).where(Task.kind == "assign_technicians")) is None
    assert sandbox.state.calls_of(plans.ASSIGN_RESOURCES) == 0


def test_only_supervisors_of_the_store_and_admins_assign(client, people, job_id):
    ids = people["ids"]
    assert assign(client, people["tech"], job_id, [ids["tech2"]]).status_code == 403  # their own job
    assert assign(client, people["tech2"], job_id, [ids["tech2"]]).status_code == 404  # not theirs
    assert assign(client, people["boss2"], job_id, [ids["tech2"]]).status_code == 404  # not their store
    assert assign(client, people["admin"], job_id, [ids["tech2"]]).status_code == 202
    # Anyone who sees the job sees where its assignment stands.
    assert client.get(f"/v1/jobs/{job_id}/technicians", headers=people["tech"]).get_json()[
        "assignment"]["status"] == "PENDING"
    assert client.get(f"/v1/jobs/{job_id}/technicians", headers=people["boss2"]).status_code == 404


def test_a_retried_put_with_its_idempotency_key_is_answered_once(client, people, job_id):
    ids = people["ids"]
    key = {"Idempotency-Key": "assign-1"}
    first = assign(client, people["boss"], job_id, [ids["tech2"]], **key)
    assert assign(client, people["boss"], job_id, [ids["third"]]).status_code == 202  # replaces it
    again = assign(client, people["boss"], job_id, [ids["tech2"]], **key)
    assert again.status_code == 202 and again.get_data() == first.get_data()  # replayed, not run again
    state = client.get(f"/v1/jobs/{job_id}/technicians", headers=people["boss"]).get_json()
    assert state["assignment"]["technicianIds"] == [ids["third"]]
    assert len(actions(client, people["boss"], job_id)) == 2
    assert assign(client, people["boss"], job_id, [ids["tech"]], **key).status_code == 422  # same key, other body


def test_needs_assignment_lists_the_days_jobs_without_technicians_for_supervisors_only(
        app, client, people, unassigned_job, job_id):
    assert listed(client, people["boss"], needs="assignment") == [unassigned_job]
    assert listed(client, people["admin"], needs="assignment") == [unassigned_job]
    assert listed(client, people["boss2"], needs="assignment") == []  # not their store
    assert client.get("/v1/jobs", headers=people["tech"], query_string={"needs": "assignment"}).status_code == 403
    assert client.get("/v1/jobs", headers=people["boss"], query_string={"needs": "closure"}).status_code == 422
    assert assign(client, people["boss"], unassigned_job, [people["ids"]["tech2"]]).status_code == 202
    assert listed(client, people["boss"], needs="assignment") == []  # on its way: not listed twice
    assert Worker(app).drain(max_seconds=30) == 0
    assert listed(client, people["boss"], needs="assignment") == []
    assert unassigned_job in listed(client, people["tech2"])


def test_an_assignment_for_an_appointment_rescheduled_meanwhile_fails_without_calling_sp_api(
        app, client, people, job_id, sandbox, deps):
    assert assign(client, people["boss"], job_id, [people["ids"]["tech2"]]).status_code == 202
    with deps.db.transaction() as session:  # a reschedule lands before the worker sends the request
        session.get(Job, job_id).appointment_id = "a-newer-appointment"
    calls = sandbox.state.calls_of(plans.ASSIGN_RESOURCES)
    assert Worker(app).drain(max_seconds=30) == 1
    assert sandbox.state.calls_of(plans.ASSIGN_RESOURCES) == calls
    state = client.get(f"/v1/jobs/{job_id}/technicians", headers=people["boss"]).get_json()
    assert state["assignment"]["status"] == "FAILED" and "rescheduled" in state["assignment"]["error"]
