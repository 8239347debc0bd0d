"""SP-API's word on a job wins over a closure still open here
(closures.reconcile), on a real database with the rows written directly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from techapi.audit.trail import events_of
from techapi.closures.models import Closure, ClosureState
from techapi.closures.reconcile import reconcile_with_upstream
from techapi.db import Database, transaction
from techapi.jobs.models import Job
from techapi.spapi.types import ServiceJob, parse_service_job

NOW = datetime(2026, 6, 15, 15, 0, tzinfo=UTC)
ASKED = NOW - timedelta(hours=2)


@pytest.fixture
def db(clean_database: str):
    database = Database(clean_database)
    yield database
    database.dispose()


def upstream(job_id: str, status: str) -> ServiceJob:
    return parse_service_job({"serviceJobId": job_id, "serviceJobStatus": status})


def given_closures(db: Database, **states: ClosureState) -> None:
    with db.transaction() as session:
        for job_id, state in states.items():
            session.add(Job(service_job_id=job_id, status="NOT_SERVICED", payload={}, synced_at=ASKED))
            session.flush()
            session.add(Closure(service_job_id=job_id, state=state, requested_at=ASKED, updated_at=ASKED,
                                failure_reason="SP-API refused" if state == ClosureState.FAILED else None))


def reconcile(db: Database, *jobs: ServiceJob) -> None:
    with db.session() as session, transaction(session):
        reconcile_with_upstream(session, list(jobs), NOW)


def closure(db: Database, job_id: str) -> SimpleNamespace:
    """The closure's columns as they were committed (the session's rollback expires the row)."""
    with db.session() as session:
        row = session.get(Closure, job_id)
        return SimpleNamespace(**{c.key: getattr(row, c.key) for c in Closure.__table__.columns})


def upstream_changes(db: Database, job_id: str) -> list[SimpleNamespace]:
    with db.session() as session:
        return [SimpleNamespace(actor=e.actor, source=e.source, actor_user_id=e.actor_user_id, at=e.at,
                                details=e.details)
                for e in events_of(session, job_id) if e.action == "closure.upstream_changed"]


@pytest.mark.parametrize("state", [ClosureState.PENDING_APPROVAL, ClosureState.REJECTED, ClosureState.FAILED])
def test_an_open_closure_of_a_job_completed_on_spapi_becomes_completed(db, state):
    given_closures(db, J1=state)
    reconcile(db, upstream("J1", "COMPLETED"))
    after = closure(db, "J1")
    assert after.state == ClosureState.COMPLETED and after.upstream_status == "COMPLETED"
    assert after.completed_at == NOW and after.updated_at == NOW
    [event] = upstream_changes(db, "J1")
    assert (event.actor, event.source, event.actor_user_id, event.at) == ("sync", "sync", None, NOW)
    assert event.details == {"upstreamStatus": "COMPLETED", "note": "completed on SP-API outside techapi"}


@pytest.mark.parametrize("state", [ClosureState.PENDING_APPROVAL, ClosureState.REJECTED, ClosureState.FAILED])
def test_an_open_closure_of_a_job_cancelled_on_spapi_fails_as_cancelled_there(db, state):
    given_closures(db, J1=state)
    reconcile(db, upstream("J1", "CANCELLED"))
    after = closure(db, "J1")
    assert after.state == ClosureState.FAILED and after.failure_reason == "cancelled on SP-API"
    assert after.upstream_status == "CANCELLED" and after.completed_at is None
    [event] = upstream_changes(db, "J1")
    assert (event.actor, event.source) == ("sync", "sync")
    assert event.details == {"upstreamStatus": "CANCELLED", "note": "cancelled on SP-API"}


@pytest.mark.parametrize("status", ["COMPLETED", "CANCELLED"])
@pytest.mark.parametrize("state", [ClosureState.QUEUED, ClosureState.COMPLETED])
def test_a_queued_or_completed_closure_is_left_alone(db, state, status):
    given_closures(db, J1=state)
    reconcile(db, upstream("J1", status))
    after = closure(db, "J1")
    assert after.state == state and after.upstream_status is None and after.updated_at == ASKED
    assert upstream_changes(db, "J1") == []


@pytest.mark.parametrize("status", ["NOT_SERVICED", "HOLD", "PENDING_SCHEDULE"])
def test_a_job_spapi_still_has_open_leaves_its_closure_alone(db, status):
    given_closures(db, J1=ClosureState.REJECTED)
    reconcile(db, upstream("J1", status))
    assert closure(db, "J1").state == ClosureState.REJECTED
    assert upstream_changes(db, "J1") == []


def test_each_closure_follows_its_own_job(db):
    given_closures(db, J1=ClosureState.PENDING_APPROVAL, J2=ClosureState.PENDING_APPROVAL,
                   J3=ClosureState.QUEUED, J4=ClosureState.PENDING_APPROVAL)
    reconcile(db, upstream("J1", "COMPLETED"), upstream("J2", "CANCELLED"), upstream("J3", "CANCELLED"),
              upstream("J5", "COMPLETED"))  # J4 absent from the sync, J5 unknown here
    assert [closure(db, j).state for j in ("J1", "J2", "J3", "J4")] == [
        ClosureState.COMPLETED, ClosureState.FAILED, ClosureState.QUEUED, ClosureState.PENDING_APPROVAL]
    assert [len(upstream_changes(db, j)) for j in ("J1", "J2", "J3", "J4", "J5")] == [1, 1, 0, 0, 0]
