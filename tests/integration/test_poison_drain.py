"""`techapi worker --drain` in a real process ends, and exits non-zero, when a task
crashes on every attempt; `techapi status` then lists it with its error."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from techapi.evidence.models import Document
from tests.integration.test_closure_pipeline import World


@pytest.fixture
def make_world(tmp_path, clean_database, http_sandbox, storage_env):
    made: list[World] = []

    def make(jobs: int, **extra: str) -> World:
        made.append(World(tmp_path, clean_database, http_sandbox, jobs, storage_env, **extra))
        return made[-1]

    yield make
    for world in made:
        world.close()


@pytest.mark.slow
def test_drain_exits_non_zero_after_a_poison_task_fails_and_status_lists_it(make_world):
    world = make_world(1, TECHAPI_TASK_MAX_ATTEMPTS="3", TECHAPI_TASK_BACKOFF_SECONDS="0.05",
                       TECHAPI_TASK_BACKOFF_MAX_SECONDS="0.1")
    world.approve_all()
    job_id = world.job_ids[0]
    with world.deps.db.session() as session:
        doc = session.scalar(select(Document).where(Document.service_job_id == job_id))
        keys = (doc.normalised_key, doc.original_key)
    for key in keys:  # the blob store lost the document: its upload and the closure crash on every attempt
        world.deps.store.delete(key)

    started = time.monotonic()
    drained = world.run_cli("worker", "--drain", timeout=120)
    elapsed = time.monotonic() - started
    assert drained.returncode == 1, drained.stderr[-2000:]
    assert elapsed < 60  # it ended on its own, long before the timeout
    assert "BlobNotFound" in drained.stderr and "gave up after 3 attempts" in drained.stderr

    status = world.run_cli("status", timeout=60)
    assert status.returncode == 0, status.stderr
    failed = [line for line in status.stdout.splitlines() if "BlobNotFound" in line]
    assert any(line.startswith(f"  close_job {job_id}:") for line in failed), status.stdout
    assert any(line.startswith("  upload_document ") for line in failed), status.stdout
    assert world.states() == {job_id: "FAILED"}  # what the supervisor sees
    assert world.completions() == [0]
