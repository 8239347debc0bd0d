"""The field-app webhook endpoint: verify, store, acknowledge; the worker applies."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import select

from techapi.audit.models import AuditEvent
from techapi.config import decode_webhook_secret
from techapi.evidence.models import TimeRecord
from techapi.queue import leases
from techapi.queue.models import Task
from techapi.webhooks.models import WebhookEvent
from techapi.webhooks.signature import sign
from techapi.worker.runner import Worker
from tests.conftest import NOW

SECRET = "whsec_" + base64.b64encode(b"field-app-secret-0123456789").decode()
URL = "/v1/webhooks/field-app"


@pytest.fixture
def hooked(app, deps):
    deps.settings = deps.settings.with_overrides(webhook_secrets=(SECRET,))
    return app


@pytest.fixture
def job(client, auth, world, synced, hooked):
    auth.user("tech", "technician", technician_id=world.technician_ids[0])
    jobs = client.get("/v1/jobs", headers=auth.headers("tech")).get_json()["jobs"]
    return jobs[2]


def deliver(client, event, webhook_id="msg_1", body: bytes | None = None, secret=SECRET, ts=None,
            content_type="application/json"):
    raw = body if body is not None else json.dumps(event).encode()
    ts = ts if ts is not None else int(NOW.timestamp())
    signature = sign(decode_webhook_secret(secret), webhook_id, ts, raw)
    return client.post(URL, data=raw, content_type=content_type, headers={
        "webhook-id": webhook_id, "webhook-timestamp": str(ts), "webhook-signature": signature})


def started(job, tech_id, at="2026-06-15T12:35:00Z"):
    return {"type": "job.started", "timestamp": "2026-06-15T12:35:05Z",
            "data": {"serviceJobId": job["serviceJobId"], "technicianId": tech_id, "at": at}}


def events_of(deps, job_id):
    with deps.db.session() as session:
        return [(e.action, e.source) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.service_job_id == job_id).order_by(AuditEvent.id))]


def status_of(deps, webhook_id):
    with deps.db.session() as session:
        event = session.get(WebhookEvent, webhook_id)
        return event.status, event.result


def test_a_signed_event_is_stored_acknowledged_and_applied_by_the_worker(client, hooked, job, world, deps, auth):
    response = deliver(client, started(job, world.technician_ids[0]))
    assert response.status_code == 202 and response.get_json() == {"status": "accepted", "webhookId": "msg_1"}
    assert events_of(deps, job["serviceJobId"]) == []  # nothing applied in the request
    assert Worker(hooked).drain(max_seconds=10) == 0
    assert status_of(deps, "msg_1") == ("APPLIED", None)
    assert events_of(deps, job["serviceJobId"]) == [("start.recorded", "field_app")]
    times = client.get(f"/v1/jobs/{job['serviceJobId']}/times", headers=auth.headers("tech")).get_json()
    assert times["start"]["at"] == "2026-06-15T12:35:00+00:00" and times["start"]["source"] == "field_app"


def test_a_redelivery_is_acknowledged_and_not_processed_again(client, hooked, job, world, deps):
    event = started(job, world.technician_ids[0])
    deliver(client, event)
    Worker(hooked).drain(max_seconds=10)
    again = deliver(client, event)
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    Worker(hooked).drain(max_seconds=10)
    assert events_of(deps, job["serviceJobId"]) == [("start.recorded", "field_app")]


def test_an_event_for_an_unassigned_technician_is_refused_and_audited(client, hooked, job, world, deps, auth):
    auth.user("other", "technician", technician_id=world.technician_ids[1])
    deliver(client, started(job, world.technician_ids[1]), webhook_id="msg_x")
    Worker(hooked).drain(max_seconds=10)
    status, result = status_of(deps, "msg_x")
    assert status == "REJECTED" and "not assigned" in result
    assert events_of(deps, job["serviceJobId"]) == [("webhook.refused", "field_app")]


def test_an_event_gets_the_same_validation_as_the_technicians_call(client, hooked, job, world, deps):
    deliver(client, started(job, world.technician_ids[0], at="2026-06-15T23:00:00Z"), webhook_id="future")
    Worker(hooked).drain(max_seconds=10)
    status, result = status_of(deps, "future")
    assert status == "REJECTED" and "in the future" in result
    assert events_of(deps, job["serviceJobId"]) == [("webhook.rejected", "field_app")]


def test_unknown_event_types_are_acknowledged_and_ignored(client, hooked, job, deps):
    response = deliver(client, {"type": "job.photo_taken", "timestamp": "x", "data": {}}, webhook_id="u1")
    assert response.status_code == 202 and response.get_json()["status"] == "ignored"
    assert status_of(deps, "u1") == ("IGNORED", "unknown event type")


def test_finished_delivered_before_started_is_applied_once_started_arrives(client, hooked, job, world, deps, auth):
    finished = {"type": "job.finished", "timestamp": "t",
                "data": {"serviceJobId": job["serviceJobId"], "technicianId": world.technician_ids[0],
                         "at": "2026-06-15T13:30:00Z"}}
    deliver(client, finished, webhook_id="late-1")
    Worker(hooked).run_one()  # the finish waits for its start
    assert status_of(deps, "late-1")[0] == "RECEIVED"
    deliver(client, started(job, world.technician_ids[0]), webhook_id="late-0")
    deps.clock.advance(seconds=60)
    assert Worker(hooked).drain(max_seconds=10) == 0
    times = client.get(f"/v1/jobs/{job['serviceJobId']}/times", headers=auth.headers("tech")).get_json()
    assert times["finish"]["at"] == "2026-06-15T13:30:00+00:00"


def finished(job, tech_id, at="2026-06-15T13:30:00Z"):
    return {"type": "job.finished", "timestamp": "2026-06-15T13:30:05Z",
            "data": {"serviceJobId": job["serviceJobId"], "technicianId": tech_id, "at": at}}


def attempts_of(deps, webhook_id) -> tuple[str, int]:
    with deps.db.session() as session:
        task = session.scalars(select(Task).where(Task.kind == "webhook_event", Task.ref == webhook_id)).one()
        return task.state, task.attempts


class SteppingWorker:
    """The worker on the test's frozen clock: where Worker.drain would sleep out
    a back-off, the clock is moved on to the next due task instead."""

    def __init__(self, app, deps) -> None:
        deps.settings = deps.settings.with_overrides(task_backoff_seconds=0.01, task_backoff_max_seconds=0.05)
        self.deps, self.worker = deps, Worker(app)

    def next_due(self) -> bool:
        """Run the next task, moving the clock to it; False when the queue is empty."""
        for _ in range(3):
            if self.worker.run_one():
                return True
            count, first = leases.outstanding(self.deps.db)
            if count == 0:
                return False
            self.deps.clock.advance(seconds=max(0.0, (first - self.deps.clock.now()).total_seconds()) + 0.001)
        raise AssertionError("a task came due and could not be claimed")

    def drain(self, max_tasks: int = 50) -> int:
        for _ in range(max_tasks):
            if not self.next_due():
                return 1 if self.worker.failed else 0
        raise AssertionError(f"the queue was not empty after {max_tasks} tasks")


def test_a_finish_whose_start_never_comes_is_tried_5_times_then_rejected_on_the_trail(hooked, client, job, world,
                                                                                       deps):
    deliver(client, finished(job, world.technician_ids[0]), webhook_id="orphan")
    assert SteppingWorker(hooked, deps).drain() == 0
    assert attempts_of(deps, "orphan") == ("DONE", 5)
    status, result = status_of(deps, "orphan")
    assert status == "REJECTED" and "start" in result.lower()
    assert events_of(deps, job["serviceJobId"]) == [("webhook.rejected", "field_app")]
    with deps.db.session() as session:
        assert session.get(TimeRecord, (job["serviceJobId"], "finish")) is None


def test_a_start_arriving_before_the_fifth_try_lets_the_waiting_finish_apply(hooked, client, job, world, deps):
    deliver(client, finished(job, world.technician_ids[0]), webhook_id="late-finish")
    worker = SteppingWorker(hooked, deps)
    for _ in range(4):
        assert worker.next_due()
    assert attempts_of(deps, "late-finish") == ("PENDING", 4) and status_of(deps, "late-finish")[0] == "RECEIVED"
    deliver(client, started(job, world.technician_ids[0]), webhook_id="early-start")
    assert worker.drain() == 0
    assert attempts_of(deps, "late-finish") == ("DONE", 5)
    assert status_of(deps, "late-finish") == status_of(deps, "early-start") == ("APPLIED", None)
    assert events_of(deps, job["serviceJobId"]) == [("start.recorded", "field_app"), ("finish.recorded", "field_app")]


def test_closure_requested_by_the_field_app(client, hooked, job, world, deps, auth):
    from tests.closing import make_ready

    make_ready(client, auth.headers("tech"), job["serviceJobId"])
    deliver(client, {"type": "job.closure_requested", "timestamp": "t",
                     "data": {"serviceJobId": job["serviceJobId"], "technicianId": world.technician_ids[0]}},
            webhook_id="close-1")
    Worker(hooked).drain(max_seconds=10)
    closure = client.get(f"/v1/jobs/{job['serviceJobId']}/closure", headers=auth.headers("tech")).get_json()
    assert closure["state"] == "PENDING_APPROVAL"
    assert closure["history"][0]["source"] == "field_app"


@pytest.mark.parametrize("case, status", [
    ("non-utf8", 400), ("not-json", 400), ("not-an-event", 422), ("bad-signature", 401), ("stale", 401),
    ("no-headers", 400),
])
def test_bad_deliveries_are_4xx_and_store_nothing(client, hooked, job, deps, case, status):
    if case == "non-utf8":
        response = deliver(client, None, body=b'{"type": "job.started", "x": "\xff\xfe"}')
    elif case == "not-json":
        response = deliver(client, None, body=b"{not json")
    elif case == "not-an-event":
        response = deliver(client, None, body=b'["a", "list"]')
    elif case == "bad-signature":
        response = deliver(client, {"type": "job.started"}, secret="whsec_" + base64.b64encode(b"y" * 32).decode())
    elif case == "stale":
        response = deliver(client, {"type": "job.started"}, ts=int(NOW.timestamp()) - 600)
    else:
        response = client.post(URL, json={"type": "job.started"})
    assert response.status_code == status
    assert response.get_json()["code"] == status
    with deps.db.session() as session:
        assert session.scalars(select(WebhookEvent)).all() == []


def test_without_a_configured_secret_every_delivery_is_refused(client, app, deps):
    deps.settings = deps.settings.with_overrides(webhook_secrets=())
    response = deliver(client, {"type": "job.started"})
    assert response.status_code == 401 and "no webhook secret" in response.get_json()["message"]


def test_an_event_whose_worker_dies_on_every_attempt_ends_rejected_and_on_the_jobs_trail(
        client, hooked, job, world, deps, clock):
    deps.settings = deps.settings.with_overrides(task_max_attempts=2)
    assert deliver(client, started(job, world.technician_ids[0]), webhook_id="doomed").status_code == 202
    lease = deps.settings.task_lease_seconds
    for attempt in (1, 2):  # a worker claims it and is killed before it ends: the lease runs out
        claimed = leases.claim(deps.db, leases.owner_name(f"doomed-{attempt}"), clock.now(), lease)
        assert claimed is not None and claimed.attempts == attempt
        clock.advance(seconds=lease + 1)
    assert Worker(hooked).drain(max_seconds=10) == 1
    status, result = status_of(deps, "doomed")
    assert status == "REJECTED" and "never finished" in result
    assert events_of(deps, job["serviceJobId"]) == [("webhook.failed", "field_app")]
