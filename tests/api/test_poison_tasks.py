"""Poison tasks end: a task whose handler crashes, or whose worker dies, on every
attempt is FAILED with its error after TECHAPI_TASK_MAX_ATTEMPTS; the supervisor
sees the closure and the document failed with the reason, `techapi status` lists
the tasks, and a drain reports the failure."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from techapi.evidence.models import Document
from techapi.queue import leases
from techapi.queue.models import Task, TaskState
from techapi.reads.ops import status_report
from techapi.worker.runner import Worker
from tests.closing import ask_closure, make_ready

MAX_ATTEMPTS = 3


@pytest.fixture
def capped(deps):
    deps.settings = deps.settings.with_overrides(task_max_attempts=MAX_ATTEMPTS, task_backoff_seconds=0.01,
                                                 task_backoff_max_seconds=0.02)
    return deps


@pytest.fixture
def boss(auth, world):
    auth.user("boss", "supervisor", stores=(world.store_ids[0],))
    return auth.headers("boss")


@pytest.fixture
def tech(auth, world, synced):
    auth.user("tech", "technician", technician_id=world.technician_ids[0])
    return auth.headers("tech")


def run_until_idle(worker: Worker, clock, rounds: int = 60) -> None:
    """What `worker --drain` does, with the frozen clock moved past each back-off."""
    for _ in range(rounds):
        while worker.run_one():
            pass
        if leases.outstanding(worker.deps.db)[0] == 0:
            return
        clock.advance(seconds=1)
    raise AssertionError("tasks still outstanding: a poison task is being retried forever")


def tasks(deps) -> list:
    """(kind, state, attempts, last_error) of every task."""
    with deps.db.session() as session:
        return session.execute(select(Task.kind, Task.state, Task.attempts, Task.last_error).order_by(Task.id)).all()


def test_a_document_whose_blob_vanished_fails_its_upload_and_closure_after_the_cap(
        app, client, capped, clock, tech, boss, caplog):
    deps = capped
    job_id = client.get("/v1/jobs", headers=tech).get_json()["jobs"][1]["serviceJobId"]
    make_ready(client, tech, job_id)
    with deps.db.session() as session:
        doc = session.scalar(select(Document).where(Document.service_job_id == job_id))
        doc_id, lost = doc.id, [doc.normalised_key, doc.original_key]
    for key in lost:  # the store lost the blob (a lifecycle rule, a bad restore): every read raises
        deps.store.delete(key)
    assert ask_closure(client, tech, job_id).status_code == 200
    assert client.post(f"/v1/jobs/{job_id}/closure/approve", headers=boss).status_code == 200

    worker = Worker(app)
    run_until_idle(worker, clock)

    ended = {t.kind: t for t in tasks(deps)}
    assert {t.state for t in ended.values()} == {TaskState.FAILED}
    for task in ended.values():
        assert task.attempts <= MAX_ATTEMPTS + 1 and "BlobNotFound" in task.last_error, task.last_error
    assert f"gave up after {MAX_ATTEMPTS} attempts" in ended["close_job"].last_error
    assert worker.failed >= 1 and worker.drain(max_seconds=5) == 1
    assert "crashed" in caplog.text and "Traceback" in caplog.text  # the crash itself is logged

    closure = client.get(f"/v1/jobs/{job_id}/closure", headers=boss).get_json()
    assert closure["state"] == "FAILED" and "BlobNotFound" in closure["failureReason"]
    listed = client.get("/v1/closures", headers=boss, query_string={"state": "FAILED"}).get_json()
    assert job_id in str(listed)
    document = client.get(f"/v1/jobs/{job_id}/documents/{doc_id}", headers=boss).get_json()
    assert document["status"] == "FAILED" and document["failureReason"]

    report = status_report(deps, stuck_minutes=30)
    assert re.search(r"close_job\s+FAILED\s+1", report) and re.search(r"upload_document\s+FAILED\s+1", report)
    failed_lines = [line for line in report.splitlines() if line.startswith(("  close_job", "  upload_document"))
                    and "BlobNotFound" in line]
    assert len(failed_lines) == 2 and any(job_id in line for line in failed_lines), report
    assert "Tasks failed for good: 2" in report
    assert f"{job_id}  FAILED" in report


def test_a_task_whose_worker_dies_on_every_attempt_is_failed_not_run_again(app, client, capped, clock, tech, boss):
    deps = capped
    job_id = client.get("/v1/jobs", headers=tech).get_json()["jobs"][1]["serviceJobId"]
    make_ready(client, tech, job_id)
    assert ask_closure(client, tech, job_id).status_code == 200
    assert client.post(f"/v1/jobs/{job_id}/closure/approve", headers=boss).status_code == 200
    lease = deps.settings.task_lease_seconds
    for attempt in range(1, MAX_ATTEMPTS + 1):
        # A worker claims the closure, starts it and is killed (OOM) before it ends: the lease runs out.
        claimed = leases.claim(deps.db, leases.owner_name(f"doomed-{attempt}"), clock.now(), lease)
        assert claimed is not None and claimed.kind == "close_job" and claimed.attempts == attempt
        clock.advance(seconds=lease + 1)

    worker = Worker(app)
    assert worker.run_one()
    close = next(t for t in tasks(deps) if t.kind == "close_job")
    assert close.state == TaskState.FAILED and "never finished" in close.last_error
    assert deps.sandbox.state.jobs[job_id].completions == 0  # not run a fourth time
    closure = client.get(f"/v1/jobs/{job_id}/closure", headers=boss).get_json()
    assert closure["state"] == "FAILED" and "never finished" in closure["failureReason"]
