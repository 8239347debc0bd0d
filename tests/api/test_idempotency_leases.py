"""Idempotency keys that outlive their request: a dead request's key is free again
after its lease, offline and HTTP keys never meet, logout is never replayed."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import Response
from sqlalchemy import select

from techapi.audit.models import AuditEvent
from techapi.auth.models import User
from techapi.idempotency.models import IdempotencyRecord
from techapi.idempotency.records import fingerprint, run_idempotent

START_AT = {"at": "2026-06-15T12:35:00Z"}


def keyed(headers, key):
    return {**headers, "Idempotency-Key": key}


def audit_actions(deps, job_id) -> list[str]:
    with deps.db.session() as session:
        return list(session.scalars(select(AuditEvent.action).where(AuditEvent.service_job_id == job_id)
                                    .order_by(AuditEvent.id)))


def leave_in_progress(app, deps, username, key, path, body, started):
    """What a request killed mid-way leaves behind: its key taken, no answer stored."""
    with app.test_request_context(path, method="POST", json=body, headers={"Idempotency-Key": key}) as ctx:
        print_ = fingerprint(ctx.request)
    with deps.db.transaction() as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        session.add(IdempotencyRecord(user_id=user_id, key=key, fingerprint=print_, created_at=started,
                                      expires_at=started + timedelta(hours=24)))


def test_a_key_left_in_progress_by_a_dead_request_is_run_again_after_its_lease(app, client, auth, afternoon_job,
                                                                              deps, clock):
    tech, key, path = auth.headers("tech"), str(uuid.uuid4()), f"/v1/jobs/{afternoon_job}/start"
    leave_in_progress(app, deps, "tech", key, path, START_AT, clock.now())
    clock.advance(seconds=deps.settings.request_timeout_seconds - 1)
    waiting = client.post(path, json=START_AT, headers=keyed(tech, key))
    assert waiting.status_code == 409 and "still being processed" in waiting.get_json()["message"]
    assert int(waiting.headers["Retry-After"]) >= 1
    clock.advance(seconds=2)  # the lease has run out: the request is taken for dead
    retried = client.post(path, json=START_AT, headers=keyed(tech, key))
    assert retried.status_code == 200 and "Idempotent-Replayed" not in retried.headers
    again = client.post(path, json=START_AT, headers=keyed(tech, key))
    assert again.headers["Idempotent-Replayed"] == "true" and again.data == retried.data
    assert audit_actions(deps, afternoon_job) == ["start.recorded"]


def test_a_dead_requests_key_with_another_request_is_still_a_422(app, client, auth, afternoon_job, deps, clock):
    tech, key, path = auth.headers("tech"), str(uuid.uuid4()), f"/v1/jobs/{afternoon_job}/start"
    leave_in_progress(app, deps, "tech", key, path, START_AT, clock.now())
    clock.advance(seconds=deps.settings.request_timeout_seconds + 1)
    other = client.post(path, json={"at": "2026-06-15T12:36:00Z"}, headers=keyed(tech, key))
    assert other.status_code == 422 and "different request" in other.get_json()["message"]


def test_the_lease_is_the_request_timeout_setting(app, client, auth, afternoon_job, deps, clock):
    deps.settings = deps.settings.with_overrides(request_timeout_seconds=600)
    tech, key, path = auth.headers("tech"), str(uuid.uuid4()), f"/v1/jobs/{afternoon_job}/start"
    leave_in_progress(app, deps, "tech", key, path, START_AT, clock.now())
    clock.advance(seconds=300)
    assert client.post(path, json=START_AT, headers=keyed(tech, key)).status_code == 409
    clock.advance(seconds=301)
    assert client.post(path, json=START_AT, headers=keyed(tech, key)).status_code == 200


def batch(job_id, key, kind="start", at="2026-06-15T12:35:00Z"):
    return {"sentAt": "2026-06-15T15:00:00Z",
            "actions": [{"idempotencyKey": key, "type": kind, "serviceJobId": job_id, "at": at}]}


def test_an_http_key_offline_k_and_the_offline_action_key_k_are_different_keys(client, auth, afternoon_job):
    tech = auth.headers("tech")
    applied = client.post("/v1/sync/actions", json=batch(afternoon_job, "K"), headers=tech)
    assert applied.get_json()["results"][0]["status"] == "applied"
    # The same words as an HTTP key are a key of their own: the finish runs, it is no "different request".
    finish = client.post(f"/v1/jobs/{afternoon_job}/finish", json={"at": "2026-06-15T13:20:00Z"},
                         headers=keyed(tech, "offline:K"))
    assert finish.status_code == 200 and "Idempotent-Replayed" not in finish.headers
    # And the other way round: the HTTP key offline:L, taken first, leaves the offline key L free.
    not_ready = client.post(f"/v1/jobs/{afternoon_job}/closure", headers=keyed(tech, "offline:L"))
    assert not_ready.status_code == 409
    later = client.post("/v1/sync/actions", json=batch(afternoon_job, "L", "closure"), headers=tech)
    result = later.get_json()["results"][0]
    assert result["status"] == "rejected" and "not ready to close" in result["reason"]


def test_logout_with_a_reused_key_revokes_the_token_it_is_sent_with(client, auth, afternoon_job):
    key = str(uuid.uuid4())
    first = auth.headers("tech")
    assert client.post("/v1/auth/logout", headers=keyed(first, key)).status_code == 204
    second = auth.headers("tech")
    out = client.post("/v1/auth/logout", headers=keyed(second, key))
    assert out.status_code == 204 and "Idempotent-Replayed" not in out.headers
    assert client.get("/v1/me", headers=second).status_code == 401
    assert client.get("/v1/me", headers=first).status_code == 401


def test_a_straggler_that_outlives_its_lease_does_not_overwrite_its_successors_answer(app, auth, deps, clock):
    user = auth.user("sup", "supervisor", stores=("s1",))
    lease, key = timedelta(seconds=deps.settings.request_timeout_seconds), str(uuid.uuid4())
    with app.test_request_context("/v1/me", method="PATCH", json={"timezone": "UTC"},
                                  headers={"Idempotency-Key": key}) as ctx:
        def successor() -> Response:
            return Response(b"second", status=200)

        def straggler() -> Response:
            # Still running past its lease: a retry took the key over and answered.
            later = clock.now() + lease + timedelta(seconds=1)
            run_idempotent(deps.db, ctx.request, user.id, later, lease, successor)
            return Response(b"first", status=200)

        assert run_idempotent(deps.db, ctx.request, user.id, clock.now(), lease, straggler).data == b"first"
        replay = run_idempotent(deps.db, ctx.request, user.id, clock.now() + lease * 2, lease, successor)
    assert replay.data == b"second" and replay.headers["Idempotent-Replayed"] == "true"
