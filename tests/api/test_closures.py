"""Closure: the technician asks, a supervisor decides, the worker sends exactly once."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from techapi.audit.models import AuditEvent
from techapi.queue.models import Task
from techapi.spapi import plans
from techapi.spapi.sandbox import Faults
from techapi.worker.runner import Worker
from tests import media
from tests.closing import ask_closure, make_ready


@pytest.fixture
def people(auth, world, synced):
    auth.user("tech", "technician", technician_id=world.technician_ids[0])
    auth.user("boss", "supervisor", stores=(world.store_ids[0],))
    auth.user("boss2", "supervisor", stores=(world.store_ids[1],))
    return {name: auth.headers(name) for name in ("tech", "boss", "boss2")}


@pytest.fixture
def job_id(client, people):
    return client.get("/v1/jobs", headers=people["tech"]).get_json()["jobs"][1]["serviceJobId"]


def test_a_job_that_is_not_ready_is_refused_with_what_is_missing(client, people, job_id):
    response = ask_closure(client, people["tech"], job_id)
    assert response.status_code == 409
    assert response.get_json()["errors"] == {"stillNeeded": ["START_TIME", "END_TIME", "POA_DOCUMENT"]}


def test_a_ready_job_waits_for_approval_and_its_evidence_is_frozen(client, people, job_id):
    make_ready(client, people["tech"], job_id)
    response = ask_closure(client, people["tech"], job_id)
    assert response.status_code == 200
    body = response.get_json()
    assert body["state"] == "PENDING_APPROVAL" and body["requestedBy"] == "tech"
    assert [e["action"] for e in body["history"]] == ["closure.requested"]
    assert ask_closure(client, people["tech"], job_id).get_json()["state"] == "PENDING_APPROVAL"
    frozen = client.post(f"/v1/jobs/{job_id}/start", json={}, headers=people["tech"])
    assert frozen.status_code == 409 and "PENDING_APPROVAL" in frozen.get_json()["message"]


def test_only_a_supervisor_of_the_store_decides(client, people, job_id):
    make_ready(client, people["tech"], job_id)
    ask_closure(client, people["tech"], job_id)
    assert client.post(f"/v1/jobs/{job_id}/closure/approve", headers=people["tech"]).status_code == 403
    assert client.post(f"/v1/jobs/{job_id}/closure/approve", headers=people["boss2"]).status_code == 404
    assert client.post(f"/v1/jobs/{job_id}/closure/reject", json={"reason": "x"},
                       headers=people["boss2"]).status_code == 404
    first = client.post(f"/v1/jobs/{job_id}/closure/approve", headers=people["boss"])
    second = client.post(f"/v1/jobs/{job_id}/closure/approve", headers=people["boss"])
    assert first.status_code == second.status_code == 200
    assert second.get_json()["state"] == "QUEUED" and second.get_json()["decidedBy"] == "boss"
    assert [e["action"] for e in second.get_json()["history"]] == ["closure.requested", "closure.approved"]


def test_approved_closure_is_sent_and_completes_the_job(app, client, people, job_id, sandbox, world):
    evidence = make_ready(client, people["tech"], job_id, photos=2)
    ask_closure(client, people["tech"], job_id)
    client.post(f"/v1/jobs/{job_id}/closure/approve", headers=people["boss"])
    assert Worker(app).drain(max_seconds=60) == 0
    closure = client.get(f"/v1/jobs/{job_id}/closure", headers=people["tech"]).get_json()
    assert closure["state"] == "COMPLETED" and closure["upstreamStatus"] == "COMPLETED"
    job = sandbox.state.jobs[job_id]
    assert job.status == "COMPLETED" and job.completions == 1
    assert job.fulfillment["fulfillmentTime"] == {
        "startTime": evidence["start"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "endTime": evidence["finish"].strftime("%Y-%m-%dT%H:%M:%S.000Z")}
    assert job.fulfillment["appointmentResources"] == [{"resourceId": world.technician_ids[0]}]
    assert len(job.fulfillment["fulfillmentDocuments"]) == 3
    assert client.get(f"/v1/jobs/{job_id}", headers=people["tech"]).get_json()["status"] == "COMPLETED"


def test_a_rejected_closure_is_not_sent_and_goes_back_to_the_technician(app, client, people, job_id, sandbox):
    make_ready(client, people["tech"], job_id)
    ask_closure(client, people["tech"], job_id)
    no_reason = client.post(f"/v1/jobs/{job_id}/closure/reject", json={}, headers=people["boss"])
    assert no_reason.status_code == 422
    rejected = client.post(f"/v1/jobs/{job_id}/closure/reject", json={"reason": "POA is not signed"},
                           headers=people["boss"])
    assert rejected.get_json()["state"] == "REJECTED"
    Worker(app).drain(max_seconds=10)
    assert sandbox.state.jobs[job_id].completions == 0
    assert sandbox.state.calls_of(plans.SET_FULFILLMENT_DATA) == 0
    detail = client.get(f"/v1/jobs/{job_id}", headers=people["tech"]).get_json()
    assert {k: detail["closure"][k] for k in ("state", "rejectionReason", "failureReason")} == {
        "state": "REJECTED", "rejectionReason": "POA is not signed", "failureReason": None}
    # The technician adds evidence and asks again.
    added = client.post(f"/v1/jobs/{job_id}/documents", headers=people["tech"], content_type="multipart/form-data",
                        data={"kind": "POA", "file": (io.BytesIO(media.jpeg()), "signed.jpg")})
    assert added.status_code == 201
    again = ask_closure(client, people["tech"], job_id).get_json()
    assert again["state"] == "PENDING_APPROVAL" and again["rejectionReason"] is None


def test_without_approval_a_closure_is_queued_at_once(app, client, people, job_id, deps, sandbox):
    deps.settings = deps.settings.with_overrides(require_approval=False)
    make_ready(client, people["tech"], job_id)
    assert ask_closure(client, people["tech"], job_id).get_json()["state"] == "QUEUED"
    assert Worker(app).drain(max_seconds=60) == 0
    assert sandbox.state.jobs[job_id].completions == 1


def test_supervisors_list_closures_of_their_stores_with_the_evidence(client, people, job_id):
    make_ready(client, people["tech"], job_id, photos=1)
    ask_closure(client, people["tech"], job_id)
    listed = client.get("/v1/closures", query_string={"status": "PENDING_APPROVAL"},
                        headers=people["boss"]).get_json()["closures"]
    assert [c["serviceJobId"] for c in listed] == [job_id]
    entry = listed[0]
    assert entry["requestedBy"] == "tech" and entry["evidence"]["start"] and entry["evidence"]["finish"]
    assert len(entry["evidence"]["documents"]) == 2
    url = entry["evidence"]["documents"][0]["url"]
    assert client.get(url, headers=people["boss"]).status_code == 200
    assert client.get("/v1/closures", headers=people["boss2"]).get_json()["closures"] == []
    assert client.get("/v1/closures", query_string={"status": "QUEUED"}, headers=people["boss"]).get_json() == {
        "closures": []}
    assert client.get("/v1/closures", headers=people["tech"]).status_code == 403
    assert client.get("/v1/closures", query_string={"status": "DONE"}, headers=people["boss"]).status_code == 422


def test_a_failed_closure_shows_spapis_message_and_can_be_retried(app, client, people, job_id, sandbox):
    make_ready(client, people["tech"], job_id)
    ask_closure(client, people["tech"], job_id)
    client.post(f"/v1/jobs/{job_id}/closure/approve", headers=people["boss"])
    sandbox.set_faults(Faults(script={plans.SET_FULFILLMENT_DATA: [400]}))
    assert Worker(app).drain(max_seconds=30) == 1
    failed = client.get(f"/v1/jobs/{job_id}/closure", headers=people["boss"]).get_json()
    assert failed["state"] == "FAILED" and "SP-API refused" in failed["failureReason"]
    listed = client.get("/v1/closures", query_string={"status": "FAILED"}, headers=people["boss"]).get_json()
    assert listed["closures"][0]["failureReason"] == failed["failureReason"]
    assert client.post(f"/v1/jobs/{job_id}/closure/retry", headers=people["tech"]).status_code == 403
    assert client.post(f"/v1/jobs/{job_id}/closure/retry", headers=people["boss"]).get_json()["state"] == "QUEUED"
    assert Worker(app).drain(max_seconds=30) == 0
    assert client.get(f"/v1/jobs/{job_id}/closure", headers=people["boss"]).get_json()["state"] == "COMPLETED"
    assert sandbox.state.jobs[job_id].completions == 1


def test_a_completion_that_answered_500_after_doing_the_work_counts_once(app, client, people, job_id, sandbox):
    make_ready(client, people["tech"], job_id)
    ask_closure(client, people["tech"], job_id)
    client.post(f"/v1/jobs/{job_id}/closure/approve", headers=people["boss"])
    sandbox.set_faults(Faults(error_after_commit_rate=1.0, operations=(plans.COMPLETE_SERVICE_JOB,)))
    app.extensions["techapi"].spapi.retry = app.extensions["techapi"].spapi.retry.__class__(
        max_attempts=2, base_delay=0.01, max_delay=0.02)
    assert Worker(app).drain(max_seconds=30) == 0
    assert sandbox.state.jobs[job_id].completions == 1
    assert client.get(f"/v1/jobs/{job_id}/closure", headers=people["boss"]).get_json()["state"] == "COMPLETED"


def test_a_job_cancelled_upstream_while_pending_is_shown_at_sync(client, people, job_id, sandbox, deps, clock):
    from techapi.jobs.sync import sync_day

    make_ready(client, people["tech"], job_id)
    ask_closure(client, people["tech"], job_id)
    clock.advance(minutes=10)
    with sandbox.state.lock:
        sandbox.state.jobs[job_id].set_status("CANCELLED", "CANCELLED", clock.now())
    clock.advance(minutes=1)
    sync_day(deps, clock.now().date())
    closure = client.get(f"/v1/jobs/{job_id}/closure", headers=people["boss"]).get_json()
    assert closure["state"] == "FAILED" and closure["upstreamStatus"] == "CANCELLED"
    assert closure["failureReason"] == "cancelled on SP-API"
    assert closure["history"][-1]["action"] == "closure.upstream_changed"


def test_a_job_cancelled_upstream_after_approval_is_caught_at_send_time(app, client, people, job_id, sandbox, clock):
    make_ready(client, people["tech"], job_id)
    ask_closure(client, people["tech"], job_id)
    client.post(f"/v1/jobs/{job_id}/closure/approve", headers=people["boss"])
    with sandbox.state.lock:
        sandbox.state.jobs[job_id].set_status("CANCELLED", "CANCELLED", clock.now())
    assert Worker(app).drain(max_seconds=30) == 1
    closure = client.get(f"/v1/jobs/{job_id}/closure", headers=people["boss"]).get_json()
    assert closure["state"] == "FAILED" and "CANCELLED" in closure["failureReason"]
    assert sandbox.state.calls_of(plans.COMPLETE_SERVICE_JOB) == 0


def test_cancellation_codes_outside_the_marketplace_table_are_refused_before_any_call(client, people, job_id, sandbox):
    response = client.post(f"/v1/jobs/{job_id}/cancellation", json={"reasonCode": "S20"}, headers=people["tech"])
    assert response.status_code == 422
    assert "S1, S3, S13, S14, S15, S16, S17" in response.get_json()["message"]
    assert client.post(f"/v1/jobs/{job_id}/cancellation", json={"reasonCode": "s1; drop"},
                       headers=people["tech"]).status_code == 422
    assert sandbox.state.calls_of(plans.CANCEL_SERVICE_JOB) == 0


def test_a_cancellation_goes_through_the_queue(app, client, people, job_id, sandbox):
    queued = client.post(f"/v1/jobs/{job_id}/cancellation", json={"reasonCode": "S13"}, headers=people["boss"])
    assert queued.status_code == 202 and queued.get_json()["state"] == "QUEUED"
    assert Worker(app).drain(max_seconds=30) == 0
    assert client.get(f"/v1/jobs/{job_id}/cancellation", headers=people["tech"]).get_json()["state"] == "COMPLETED"
    assert sandbox.state.jobs[job_id].status == "CANCELLED"
    assert sandbox.state.jobs[job_id].cancellation_reason == "S13"
    assert client.get(f"/v1/jobs/{job_id}", headers=people["tech"]).get_json()["status"] == "CANCELLED"


def test_history_is_the_append_only_audit_trail(app, client, people, job_id, deps):
    make_ready(client, people["tech"], job_id)
    ask_closure(client, people["tech"], job_id)
    client.post(f"/v1/jobs/{job_id}/closure/approve", headers=people["boss"])
    Worker(app).drain(max_seconds=30)
    history = client.get(f"/v1/jobs/{job_id}/history", headers=people["tech"]).get_json()["events"]
    actions = [e["action"] for e in history]
    assert actions[:3] == ["start.recorded", "finish.recorded", "document.added"]
    assert actions[-4:] == ["closure.approved", "document.uploaded", "closure.fulfillment_set", "closure.completed"]
    assert history[0]["deviceAt"] is not None and history[0]["actor"] == "tech"
    with deps.db.session() as session:
        stored = session.scalars(select(AuditEvent.action).where(AuditEvent.service_job_id == job_id)
                                 .order_by(AuditEvent.id)).all()
    assert stored == actions
    assert client.get(f"/v1/jobs/{job_id}/history", headers=people["boss2"]).status_code == 404


def test_a_job_completed_on_spapi_before_the_worker_runs_counts_as_done_without_sending(
        app, client, people, job_id, sandbox, clock):
    make_ready(client, people["tech"], job_id)
    ask_closure(client, people["tech"], job_id)
    assert client.post(f"/v1/jobs/{job_id}/closure/approve", headers=people["boss"]).status_code == 200
    with sandbox.state.lock:  # completed on Amazon's side (another tool, a person) meanwhile
        sandbox.state.jobs[job_id].set_status("COMPLETED", "COMPLETED", clock.now())
    assert Worker(app).drain(max_seconds=30) == 0
    closure = client.get(f"/v1/jobs/{job_id}/closure", headers=people["boss"]).get_json()
    assert closure["state"] == "COMPLETED" and closure["upstreamStatus"] == "COMPLETED"
    assert closure["failureReason"] is None
    assert closure["history"][-1]["action"] == "closure.completed"
    assert closure["history"][-1]["details"] == {"note": "SP-API already shows the job completed"}
    assert sandbox.state.calls_of(plans.SET_FULFILLMENT_DATA) == 0
    assert sandbox.state.calls_of(plans.COMPLETE_SERVICE_JOB) == 0
    assert sandbox.state.jobs[job_id].completions == 0


# The closure state machine refuses a supervisor's move from the wrong state --------------


def closure_in(app, client, people, job_id, sandbox, state: str) -> dict:
    """A closure brought, through the API and the worker, to `state`."""
    make_ready(client, people["tech"], job_id)
    assert ask_closure(client, people["tech"], job_id).status_code == 200
    if state == "REJECTED":
        client.post(f"/v1/jobs/{job_id}/closure/reject", json={"reason": "POA unsigned"}, headers=people["boss"])
    elif state in ("QUEUED", "FAILED"):
        client.post(f"/v1/jobs/{job_id}/closure/approve", headers=people["boss"])
    if state == "FAILED":
        sandbox.set_faults(Faults(script={plans.SET_FULFILLMENT_DATA: [400]}))
        assert Worker(app).drain(max_seconds=30) == 1
    closure = client.get(f"/v1/jobs/{job_id}/closure", headers=people["boss"]).get_json()
    assert closure["state"] == state
    return closure


REFUSALS = [
    ("REJECTED", "approve", "Closure is REJECTED; only a pending closure can be approved"),
    ("FAILED", "approve", "Closure is FAILED; only a pending closure can be approved"),
    ("QUEUED", "reject", "Closure is QUEUED; only a pending closure can be rejected"),
    ("PENDING_APPROVAL", "retry", "Closure is PENDING_APPROVAL; only a failed closure can be retried"),
]


@pytest.mark.parametrize("state, verb, message", REFUSALS, ids=[f"{v} {s}" for s, v, _ in REFUSALS])
def test_a_decision_in_the_wrong_state_is_a_409_naming_the_state_and_changes_nothing(
        app, client, people, job_id, sandbox, deps, state, verb, message):
    before = closure_in(app, client, people, job_id, sandbox, state)
    with deps.db.session() as session:
        tasks_before = session.scalar(select(func.count()).select_from(Task))
    body = {"reason": "changed my mind"} if verb == "reject" else None
    response = client.post(f"/v1/jobs/{job_id}/closure/{verb}", json=body, headers=people["boss"])
    assert response.status_code == 409
    assert response.get_json()["message"] == message
    assert client.get(f"/v1/jobs/{job_id}/closure", headers=people["boss"]).get_json() == before
    with deps.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Task)) == tasks_before  # nothing queued
