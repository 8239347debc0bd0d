"""Safe retries from flaky phones: Idempotency-Key, offline replay, concurrent writers."""

from __future__ import annotations

import io
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from techapi.audit.models import AuditEvent
from techapi.evidence.models import Document, TimeRecord
from techapi.storage import LocalBlobStore
from tests import media


@pytest.fixture
def job_id(afternoon_job):
    return afternoon_job


@pytest.fixture
def tech(auth, job_id):
    return auth.headers("tech")


def keyed(headers, key):
    return {**headers, "Idempotency-Key": key}


def audit_count(deps) -> int:
    with deps.db.session() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent))


# Idempotency-Key ----------------------------------------------------------------------------


def test_a_retry_replays_the_identical_stored_response(client, tech, job_id, deps):
    key = str(uuid.uuid4())
    first = client.post(f"/v1/jobs/{job_id}/start", json={}, headers=keyed(tech, key))
    deps.clock.advance(seconds=30)  # without the key, "now" would be a new start time
    again = client.post(f"/v1/jobs/{job_id}/start", json={}, headers=keyed(tech, f'"{key}"'))
    assert again.status_code == first.status_code == 200
    assert again.data == first.data
    assert again.headers["Idempotent-Replayed"] == "true"
    assert audit_count(deps) == 1


def test_errors_are_answers_too_and_are_replayed(client, tech, job_id, deps):
    key = str(uuid.uuid4())
    first = client.post(f"/v1/jobs/{job_id}/finish", json={"at": "2026-06-15T13:00:00Z"}, headers=keyed(tech, key))
    assert first.status_code == 409
    client.post(f"/v1/jobs/{job_id}/start", json={"at": "2026-06-15T12:35:00Z"}, headers=tech)
    again = client.post(f"/v1/jobs/{job_id}/finish", json={"at": "2026-06-15T13:00:00Z"}, headers=keyed(tech, key))
    assert again.status_code == 409 and again.data == first.data


def test_the_same_key_with_a_different_body_is_a_422(client, tech, job_id):
    key = str(uuid.uuid4())
    client.post(f"/v1/jobs/{job_id}/start", json={"at": "2026-06-15T12:35:00Z"}, headers=keyed(tech, key))
    other = client.post(f"/v1/jobs/{job_id}/start", json={"at": "2026-06-15T12:36:00Z"}, headers=keyed(tech, key))
    assert other.status_code == 422 and "different request" in other.get_json()["message"]


@pytest.mark.slow
def test_a_retry_while_the_first_is_running_is_a_409(app, tech, job_id, deps):
    big = media.noise_jpeg(4032, 3024, quality=100)  # takes a moment to normalise
    key = str(uuid.uuid4())
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def upload() -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(f"/v1/jobs/{job_id}/documents", headers=keyed(tech, key),
                               content_type="multipart/form-data",
                               data={"kind": "PHOTO", "file": (io.BytesIO(big), "big.jpg")})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=upload) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [201, 409]
    with deps.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 1


def test_keys_of_one_user_never_replay_for_another(client, auth, world, tech, job_id, deps):
    key = "shared-key-1"
    mine = client.post(f"/v1/jobs/{job_id}/start", json={"at": "2026-06-15T12:35:00Z"}, headers=keyed(tech, key))
    auth.user("other", "technician", technician_id=world.technician_ids[1])
    other = auth.headers("other")
    their_job = client.get("/v1/jobs", headers=other).get_json()["jobs"][0]["serviceJobId"]
    theirs = client.post(f"/v1/jobs/{their_job}/start", json={"at": "2026-06-15T08:05:00Z"},
                         headers=keyed(other, key))
    assert theirs.status_code == 200 and "Idempotent-Replayed" not in theirs.headers
    assert theirs.get_json()["serviceJobId"] == their_job != mine.get_json()["serviceJobId"]


def test_an_upload_retried_with_its_key_is_stored_once(client, tech, job_id, deps):
    key = str(uuid.uuid4())
    data = media.jpeg()
    responses = [client.post(f"/v1/jobs/{job_id}/documents", headers=keyed(tech, key),
                             content_type="multipart/form-data",
                             data={"kind": "PHOTO", "file": (io.BytesIO(data), "a.jpg")}) for _ in range(2)]
    assert [r.status_code for r in responses] == [201, 201] and responses[0].data == responses[1].data


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve-ü"])
def test_a_malformed_key_is_a_400(client, tech, job_id, key):
    response = client.post(f"/v1/jobs/{job_id}/start", json={}, headers=keyed(tech, key))
    assert response.status_code == 400


def test_keys_are_kept_for_24_hours(client, auth, tech, job_id, deps):
    key = str(uuid.uuid4())
    client.post(f"/v1/jobs/{job_id}/start", json={"at": "2026-06-15T12:35:00Z"}, headers=keyed(tech, key))
    deps.clock.advance(hours=23, minutes=59)
    fresh = auth.headers("tech")  # the bearer token itself lasts 12 hours
    replay = client.post(f"/v1/jobs/{job_id}/start", json={"at": "2026-06-15T12:35:00Z"}, headers=keyed(fresh, key))
    assert replay.headers.get("Idempotent-Replayed") == "true"


def test_after_24_hours_a_key_is_forgotten_the_same_request_runs_again_and_another_is_no_longer_a_422(
        client, auth, tech, job_id, deps):
    same, other = str(uuid.uuid4()), str(uuid.uuid4())
    start = {"at": "2026-06-15T12:35:00Z"}
    first = client.post(f"/v1/jobs/{job_id}/start", json=start, headers=keyed(tech, same))
    assert client.post(f"/v1/jobs/{job_id}/start", json=start, headers=keyed(tech, other)).status_code == 200
    changed = {"at": "2026-06-15T12:40:00Z", "version": first.get_json()["start"]["version"]}
    deps.clock.advance(hours=23, minutes=59, seconds=59)  # one second before the keys expire
    tech = auth.headers("tech")  # a bearer token lasts 12 hours
    assert client.post(f"/v1/jobs/{job_id}/start", json=start,
                       headers=keyed(tech, same)).headers.get("Idempotent-Replayed") == "true"
    assert client.post(f"/v1/jobs/{job_id}/start", json=changed, headers=keyed(tech, other)).status_code == 422
    deps.clock.advance(seconds=2)  # 24 hours and a second
    again = client.post(f"/v1/jobs/{job_id}/start", json=start, headers=keyed(tech, same))
    assert again.status_code == 200 and "Idempotent-Replayed" not in again.headers
    moved = client.post(f"/v1/jobs/{job_id}/start", json=changed, headers=keyed(tech, other))
    assert moved.status_code == 200 and "Idempotent-Replayed" not in moved.headers
    assert moved.get_json()["start"]["at"] == "2026-06-15T12:40:00+00:00"


@pytest.fixture
def blob_dir(deps, tmp_path) -> Path:
    """The root of the app's file store. An S3 run has no failure of this kind to
    provoke, so there the test keeps its blobs in a file store of its own."""
    if not isinstance(deps.store, LocalBlobStore):
        deps.store = LocalBlobStore(tmp_path / "blobs-of-this-test")
    return deps.store.root


def test_a_5xx_is_not_stored_so_a_retry_with_the_same_key_runs_again_once_the_cause_is_fixed(
        client, tech, job_id, deps, blob_dir):
    blob_dir.mkdir(parents=True, exist_ok=True)
    (blob_dir / "documents").write_bytes(b"a file where the documents directory goes")  # not even root writes under it
    key, data = str(uuid.uuid4()), media.jpeg()

    def upload():
        return client.post(f"/v1/jobs/{job_id}/documents", headers=keyed(tech, key),
                           content_type="multipart/form-data",
                           data={"kind": "PHOTO", "file": (io.BytesIO(data), "a.jpg")})

    failed = upload()
    assert failed.status_code == 500 and failed.get_json()["code"] == 500
    (blob_dir / "documents").unlink()  # the cause fixed
    retried = upload()
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers  # ran again, not a replay
    assert upload().headers.get("Idempotent-Replayed") == "true"  # and this answer is the one kept
    with deps.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 1


# Offline replay -------------------------------------------------------------------------------


def batch(job_id, sent_at, start="2026-06-15T14:40:00+02:00", finish="2026-06-15T15:30:00+02:00", prefix="k"):
    """A device two hours fast: its 14:40 (+02:00) was really 10:40 UTC... plus the skew."""
    return {"sentAt": sent_at, "actions": [
        {"idempotencyKey": f"{prefix}-1", "type": "start", "serviceJobId": job_id, "at": start},
        {"idempotencyKey": f"{prefix}-2", "type": "finish", "serviceJobId": job_id, "at": finish},
        {"idempotencyKey": f"{prefix}-3", "type": "closure", "serviceJobId": job_id},
    ]}


def test_a_device_two_hours_fast_gets_its_times_corrected_and_both_kept(client, tech, job_id, deps):
    # The server's clock says 15:00 UTC; the device's says 17:00 UTC when it sends.
    body = batch(job_id, "2026-06-15T19:00:00+02:00", start="2026-06-15T16:40:00+02:00",
                 finish="2026-06-15T17:20:00+02:00")
    response = client.post("/v1/sync/actions", json=body, headers=tech)
    assert response.status_code == 200
    result = response.get_json()
    assert result["clockSkewSeconds"] == 7200.0 and result["corrected"] is True
    statuses = [r["status"] for r in result["results"]]
    assert statuses == ["applied", "applied", "rejected"]
    assert "POA_DOCUMENT" in result["results"][2]["reason"]  # never silently dropped: it says why
    with deps.db.session() as session:
        start = session.get(TimeRecord, (job_id, "start"))
        finish = session.get(TimeRecord, (job_id, "finish"))
        assert start.at.isoformat() == "2026-06-15T12:40:00+00:00"  # 14:40 UTC on the device, minus 2 h
        assert start.device_at.isoformat() == "2026-06-15T14:40:00+00:00"
        assert finish.at.isoformat() == "2026-06-15T13:20:00+00:00" and start.source == "offline"
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "start.recorded")).one()
        assert event.details["clockCorrected"] is True and event.details["clockSkewSeconds"] == 7200.0


def test_a_batch_replayed_twice_changes_nothing_the_second_time(client, tech, job_id, deps):
    body = batch(job_id, "2026-06-15T17:00:00+02:00", start="2026-06-15T14:35:00+02:00",
                 finish="2026-06-15T15:20:00+02:00")
    first = client.post("/v1/sync/actions", json=body, headers=tech).get_json()
    events = audit_count(deps)
    deps.clock.advance(minutes=3)
    body["sentAt"] = "2026-06-15T17:03:00+02:00"
    second = client.post("/v1/sync/actions", json=body, headers=tech).get_json()
    assert [r["status"] for r in first["results"]] == ["applied", "applied", "rejected"]
    assert [r["status"] for r in second["results"]] == ["duplicate"] * 3
    assert [r.get("firstResult") for r in second["results"]] == ["applied", "applied", "rejected"]
    assert audit_count(deps) == events


def test_a_clock_within_tolerance_is_not_corrected(client, tech, job_id, deps):
    body = batch(job_id, "2026-06-15T17:00:30+02:00", start="2026-06-15T14:35:00+02:00",
                 finish="2026-06-15T15:20:00+02:00")
    result = client.post("/v1/sync/actions", json=body, headers=tech).get_json()
    assert result["corrected"] is False
    with deps.db.session() as session:
        assert session.get(TimeRecord, (job_id, "start")).at.isoformat() == "2026-06-15T12:35:00+00:00"


def test_a_key_reused_for_another_action_is_rejected_with_a_reason(client, tech, job_id):
    client.post("/v1/sync/actions", headers=tech, json={"sentAt": "2026-06-15T15:00:00Z", "actions": [
        {"idempotencyKey": "same", "type": "start", "serviceJobId": job_id, "at": "2026-06-15T12:35:00Z"}]})
    result = client.post("/v1/sync/actions", headers=tech, json={"sentAt": "2026-06-15T15:00:00Z", "actions": [
        {"idempotencyKey": "same", "type": "finish", "serviceJobId": job_id, "at": "2026-06-15T13:35:00Z"}]})
    entry = result.get_json()["results"][0]
    assert entry["status"] == "rejected" and "different action" in entry["reason"]


def test_actions_on_someone_elses_job_are_rejected_not_dropped(client, tech, sandbox, world):
    other = next(j.job_id for j in sandbox.state.jobs.values() if j.payload.get("storeId") == world.store_ids[1])
    result = client.post("/v1/sync/actions", headers=tech, json={"sentAt": "2026-06-15T15:00:00Z", "actions": [
        {"idempotencyKey": "x1", "type": "start", "serviceJobId": other, "at": "2026-06-15T12:35:00Z"}]})
    assert result.get_json()["results"][0] == {"index": 0, "idempotencyKey": "x1", "type": "start",
                                               "serviceJobId": other, "status": "rejected", "reason": "Job not found"}


def test_a_malformed_batch_is_a_422(client, tech):
    assert client.post("/v1/sync/actions", headers=tech, json={"actions": []}).status_code == 422
    assert client.post("/v1/sync/actions", headers=tech, json={
        "sentAt": "2026-06-15T15:00:00Z", "actions": {"not": "a list"}}).status_code == 422


# Concurrent writers ------------------------------------------------------------------------------


@pytest.mark.parametrize("same", [True, False])
def test_phone_and_field_app_recording_finish_at_once_end_consistent(app, tech, job_id, deps, same):
    app.test_client().post(f"/v1/jobs/{job_id}/start", json={"at": "2026-06-15T12:35:00Z"}, headers=tech)
    values = ["2026-06-15T13:30:00Z", "2026-06-15T13:30:00Z" if same else "2026-06-15T13:31:00Z"]
    barrier = threading.Barrier(2)
    results: list[tuple[int, str]] = []

    def finish(at: str) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(f"/v1/jobs/{job_id}/finish", json={"at": at}, headers=tech)
        results.append((response.status_code, response.get_json().get("message", "")))

    threads = [threading.Thread(target=finish, args=(v,)) for v in values]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    codes = sorted(code for code, _ in results)
    assert codes == ([200, 200] if same else [200, 409])
    if not same:
        assert "already recorded" in next(m for c, m in results if c == 409)
    with deps.db.session() as session:
        record = session.get(TimeRecord, (job_id, "finish"))
        assert record.version == 1 and record.at.isoformat()[:16] in ("2026-06-15T13:30", "2026-06-15T13:31")
