"""Job sync: full pull, incremental updates, and all-or-nothing on failure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from techapi.jobs.models import Job, SyncCursor, SyncedDay
from techapi.jobs.sync import sync_day
from techapi.spapi import plans
from techapi.spapi.errors import SpApiServerError
from techapi.spapi.sandbox import Faults
from techapi.spapi.sandbox.seed import seed_bulk
from tests.conftest import NOW


def sync(deps, day=None):
    return sync_day(deps, day or NOW.date())


def count_jobs(deps) -> int:
    with deps.db.session() as session:
        return session.scalar(select(func.count()).select_from(Job))


def test_first_sync_is_a_full_pull_of_the_day(deps):
    result = sync(deps)
    assert result.full and result.created == 30 and result.updated == 0
    assert count_jobs(deps) == 30


def test_later_syncs_are_incremental_and_pick_up_upstream_changes(deps, sandbox, clock):
    sync(deps)
    clock.advance(minutes=10)
    job = next(j for j in sandbox.state.jobs.values() if j.status == "NOT_SERVICED"
               and j.payload["appointments"][0]["appointmentTime"]["startTime"].startswith("2026-06-15"))
    with sandbox.state.lock:
        job.set_status("CANCELLED", "CANCELLED", clock.now())
    listed_before = sandbox.state.calls_of(plans.GET_SERVICE_JOBS)
    result = sync(deps)
    assert not result.full
    assert result.fetched == 1 and result.updated == 1 and result.created == 0
    assert sandbox.state.calls_of(plans.GET_SERVICE_JOBS) == listed_before + 1
    with deps.db.session() as session:
        assert session.get(Job, job.job_id).status == "CANCELLED"


def test_the_cursor_moves_forward_with_each_sync(deps, clock):
    sync(deps)
    with deps.db.session() as session:
        first = session.get(SyncCursor, "serviceJobs.lastUpdatedAfter").updated_after
    clock.advance(minutes=5)
    sync(deps)
    with deps.db.session() as session:
        assert session.get(SyncCursor, "serviceJobs.lastUpdatedAfter").updated_after == first + timedelta(minutes=5)


def test_a_sync_that_fails_midway_writes_nothing(deps, sandbox):
    seed_bulk(sandbox.state, 60, NOW.date(), "UTC", "ATVPDKIKX0DER")  # 90 jobs: five pages
    deps.spapi.retry = deps.spapi.retry.__class__(max_attempts=2, base_delay=0.01, max_delay=0.02)
    sandbox.set_faults(Faults(script={plans.GET_SERVICE_JOBS: [0, 0, 500, 500]}))
    with pytest.raises(SpApiServerError):
        sync(deps)
    assert count_jobs(deps) == 0
    with deps.db.session() as session:
        assert session.get(SyncCursor, "serviceJobs.lastUpdatedAfter") is None
        assert session.get(SyncedDay, NOW.date()) is None
    result = sync(deps)  # the next run starts from the same place and completes
    assert result.full and result.created == 90


def test_resyncing_the_same_data_changes_nothing(deps, clock):
    sync(deps)
    with deps.db.session() as session:
        before = {j.service_job_id: (j.status, j.appointment_start) for j in session.scalars(select(Job))}
    clock.advance(minutes=1)
    sync(deps)
    with deps.db.session() as session:
        after = {j.service_job_id: (j.status, j.appointment_start) for j in session.scalars(select(Job))}
    assert before == after


def test_the_job_of_the_day_is_there_on_a_day_the_sandbox_was_not_started_on(deps, client, auth, world, clock):
    """techapi and its in-process sandbox left running two midnights long."""
    auth.user("tech", "technician", technician_id=world.technician_ids[0])
    sync(deps)
    clock.advance(days=2)
    result = sync_day(deps)  # today, by the clock
    # The day's full pull, and the incremental pull that sees both new days appear.
    assert result.day == NOW.date() + timedelta(days=2) and result.full and result.created == 2 * 32
    jobs = client.get("/v1/jobs", headers=auth.headers("tech")).get_json()["jobs"]
    assert len(jobs) == 5
    assert all(j["appointment"]["start"].startswith(result.day.isoformat()) for j in jobs)


def test_the_workers_sync_fills_the_offline_window_in_one_full_pull_then_goes_incremental(app, deps, sandbox,
                                                                                           world, clock):
    import random

    from techapi.spapi.sandbox.seed import make_job
    from techapi.worker.runner import Worker

    rng, ids = random.Random(5), {}
    for days in (3, 7, 8):  # inside the window (today and 7 days), its last day, the day after it
        start = NOW.replace(hour=9) + timedelta(days=days)
        job = make_job(rng, marketplace_id=world.marketplace_id, store_id=world.store_ids[0],
                       technician=world.technicians[0][:2], start=start, created=start - timedelta(days=10))
        sandbox.state.add_job(job)
        ids[days] = job["serviceJobId"]
    listed_before = sandbox.state.calls_of(plans.GET_SERVICE_JOBS)
    assert Worker(app).sync_if_due(force=True)
    with deps.db.session() as session:
        assert session.get(Job, ids[3]) is not None and session.get(Job, ids[7]) is not None
        assert session.get(Job, ids[8]) is None
        synced = {d.day for d in session.scalars(select(SyncedDay))}
    assert synced == {NOW.date() + timedelta(days=n) for n in range(8)}
    first = sandbox.state.calls_of(plans.GET_SERVICE_JOBS) - listed_before
    clock.advance(minutes=5)
    assert Worker(app).sync_if_due(force=True)
    assert sandbox.state.calls_of(plans.GET_SERVICE_JOBS) - listed_before == first + 1  # one incremental page
