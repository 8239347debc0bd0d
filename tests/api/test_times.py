"""Recording start and finish: rules, idempotency, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from techapi.audit.models import AuditEvent


@pytest.fixture
def job_id(afternoon_job):
    return afternoon_job


@pytest.fixture
def tech(auth, job_id):
    return auth.headers("tech")


def post(client, headers, job_id, action, at=None, version=None):
    body = {k: v for k, v in (("at", at), ("version", version)) if v is not None}
    return client.post(f"/v1/jobs/{job_id}/{action}", json=body, headers=headers)


def audit_actions(deps, job_id):
    with deps.db.session() as session:
        return [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.service_job_id == job_id)
                                                  .order_by(AuditEvent.id))]


def test_start_and_finish_keep_device_and_server_times(client, tech, job_id):
    started = post(client, tech, job_id, "start", "2026-06-15T05:35:00-07:00")
    assert started.status_code == 200
    body = started.get_json()
    assert body["start"]["at"] == "2026-06-15T12:35:00+00:00"
    assert body["start"]["deviceAt"] == "2026-06-15T05:35:00-07:00"
    assert body["start"]["receivedAt"] == "2026-06-15T15:00:00+00:00"
    assert body["finish"] is None
    assert body["stillNeeded"] == ["END_TIME", "POA_DOCUMENT"]
    finished = post(client, tech, job_id, "finish", "2026-06-15T14:10:00Z").get_json()
    assert finished["finish"]["at"] == "2026-06-15T14:10:00+00:00"
    assert finished["stillNeeded"] == ["POA_DOCUMENT"]


def test_no_time_means_server_time(client, tech, job_id):
    body = post(client, tech, job_id, "start").get_json()
    assert body["start"]["at"] == "2026-06-15T15:00:00+00:00" and body["start"]["deviceAt"] is None


def test_the_same_time_again_changes_nothing(client, tech, job_id, deps):
    first = post(client, tech, job_id, "start", "2026-06-15T12:35:00Z").get_json()
    second = post(client, tech, job_id, "start", "2026-06-15T12:35:00Z")
    assert second.status_code == 200 and second.get_json() == first
    assert audit_actions(deps, job_id) == ["start.recorded"]


def test_changing_a_time_is_allowed_with_its_version_and_audited(client, tech, job_id, deps):
    first = post(client, tech, job_id, "start", "2026-06-15T12:35:00Z").get_json()
    assert first["start"]["version"] == 1
    blind = post(client, tech, job_id, "start", "2026-06-15T12:40:00Z")
    assert blind.status_code == 409 and "send that version" in blind.get_json()["message"]
    changed = post(client, tech, job_id, "start", "2026-06-15T12:40:00Z", version=1).get_json()
    assert changed["start"]["at"] == "2026-06-15T12:40:00+00:00" and changed["start"]["version"] == 2
    assert post(client, tech, job_id, "start", "2026-06-15T12:45:00Z", version=1).status_code == 409
    assert audit_actions(deps, job_id) == ["start.recorded", "start.changed"]
    with deps.db.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "start.changed")).one()
        assert event.details == {"from": "2026-06-15T12:35:00+00:00", "at": "2026-06-15T12:40:00+00:00"}
        assert event.actor == "tech" and event.source == "api"


@pytest.mark.parametrize("action, at, status, words", [
    ("finish", "2026-06-15T14:00:00Z", 409, "Record the start before the finish"),
    ("start", "2026-06-15T15:06:00Z", 422, "more than 5 minutes in the future"),
    ("start", "2026-06-13T12:00:00Z", 422, "far outside the appointment"),
    ("start", "2026-06-15T12:00:00", 422, "did not validate"),  # no offset
    ("start", "yesterday", 422, "did not validate"),
])
def test_times_that_cannot_be_right_are_refused_with_a_reason(client, tech, job_id, action, at, status, words):
    response = post(client, tech, job_id, action, at)
    assert response.status_code == status
    assert words in response.get_json()["message"]


def test_finish_before_start_and_start_after_finish_are_refused(client, tech, job_id):
    post(client, tech, job_id, "start", "2026-06-15T12:35:00Z")
    early = post(client, tech, job_id, "finish", "2026-06-15T12:00:00Z")
    assert early.status_code == 422 and "before the start" in early.get_json()["message"]
    post(client, tech, job_id, "finish", "2026-06-15T14:00:00Z")
    late = post(client, tech, job_id, "start", "2026-06-15T14:30:00Z", version=1)
    assert late.status_code == 422 and "after the finish" in late.get_json()["message"]


def test_a_five_minute_fast_clock_is_tolerated(client, tech, job_id):
    assert post(client, tech, job_id, "start", "2026-06-15T15:04:00Z").status_code == 200


def test_a_closed_job_cannot_change(client, tech, job_id, deps):
    from techapi.jobs.models import Job

    with deps.db.session() as session:
        session.get(Job, job_id).status = "COMPLETED"
        session.commit()
    response = post(client, tech, job_id, "start", "2026-06-15T12:35:00Z")
    assert response.status_code == 409 and "COMPLETED" in response.get_json()["message"]


def test_only_the_assigned_technician_records_times(client, auth, job_id, world):
    auth.user("other", "technician", technician_id=world.technician_ids[1])
    auth.user("boss", "supervisor", stores=(world.store_ids[0],))
    for action in ("start", "finish"):
        assert post(client, auth.headers("other"), job_id, action, "2026-06-15T12:35:00Z").status_code == 404
        assert post(client, auth.headers("boss"), job_id, action, "2026-06-15T12:35:00Z").status_code == 403
    assert client.get(f"/v1/jobs/{job_id}/times", headers=auth.headers("other")).status_code == 404
    assert client.get(f"/v1/jobs/{job_id}/times", headers=auth.headers("boss")).status_code == 200


def test_job_list_and_detail_reflect_recorded_times(client, tech, job_id):
    post(client, tech, job_id, "start", "2026-06-15T12:35:00Z")
    post(client, tech, job_id, "finish", "2026-06-15T14:00:00Z")
    jobs = client.get("/v1/jobs", headers=tech).get_json()["jobs"]
    assert next(j for j in jobs if j["serviceJobId"] == job_id)["stillNeeded"] == ["POA_DOCUMENT"]
    assert client.get(f"/v1/jobs/{job_id}", headers=tech).get_json()["stillNeeded"] == ["POA_DOCUMENT"]
