"""Leases on queued tasks (queue.leases), on a real database: a task is held by
one worker at a time, and a task that does another's work takes that one over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from techapi.db import Database
from techapi.queue import leases
from techapi.queue.kinds import TaskKind
from techapi.queue.models import Task, TaskState
from techapi.queue.outbox import enqueue

NOW = datetime(2026, 6, 15, 15, 0, tzinfo=UTC)
UPLOAD = TaskKind("upload_document", priority=2, run=lambda deps, ref, attempt: None)


@pytest.fixture
def db(clean_database: str):
    database = Database(clean_database)
    yield database
    database.dispose()


def queued(db: Database, ref: str = "doc-1", delay: float = 0.0) -> None:
    with db.transaction() as session:
        enqueue(session, UPLOAD, ref, NOW, delay=delay)


def state_of(db: Database, ref: str = "doc-1") -> tuple[str, int, str | None]:
    with db.session() as session:
        task = session.query(Task).filter_by(ref=ref).one()
        return task.state, task.attempts, task.lease_owner


def test_a_claimed_task_is_not_claimed_again_while_its_lease_runs(db):
    queued(db)
    first = leases.claim(db, "w1", NOW, 60)
    assert first is not None and first.attempts == 1
    assert leases.claim(db, "w2", NOW + timedelta(seconds=59), 60) is None
    again = leases.claim(db, "w2", NOW + timedelta(seconds=61), 60)  # the lease ran out: taken over
    assert again is not None and again.owner == "w2" and again.attempts == 2


def test_only_the_holder_of_the_lease_ends_a_task(db):
    queued(db)
    first = leases.claim(db, "w1", NOW, 60)
    second = leases.claim(db, "w2", NOW + timedelta(seconds=61), 60)
    assert not leases.complete(db, first, NOW + timedelta(seconds=62))
    assert leases.complete(db, second, NOW + timedelta(seconds=62))
    assert state_of(db) == (TaskState.DONE, 2, None)


def test_taking_over_claims_a_waiting_task_out_of_turn(db):
    queued(db, delay=600)  # backing off: not due for ten minutes
    assert leases.claim(db, "worker", NOW, 60) is None
    held = leases.take_over(db, UPLOAD.name, "doc-1", "close_job:J1", NOW, 60)
    assert held is not None and held.attempts == 1
    assert state_of(db) == (TaskState.RUNNING, 1, "close_job:J1")
    assert leases.claim(db, "worker", NOW + timedelta(seconds=30), 60) is None  # held: nobody else runs it


def test_taking_over_a_task_another_worker_runs_is_refused_until_its_lease_ends(db):
    queued(db)
    leases.claim(db, "worker", NOW, 60)
    with pytest.raises(leases.Held):
        leases.take_over(db, UPLOAD.name, "doc-1", "close_job:J1", NOW + timedelta(seconds=30), 60)
    held = leases.take_over(db, UPLOAD.name, "doc-1", "close_job:J1", NOW + timedelta(seconds=61), 60)
    assert held is not None and held.attempts == 2


def test_there_is_nothing_to_take_over_once_the_task_is_done_or_was_never_queued(db):
    assert leases.take_over(db, UPLOAD.name, "doc-1", "close_job:J1", NOW, 60) is None
    queued(db)
    leases.complete(db, leases.claim(db, "worker", NOW, 60), NOW)
    assert leases.take_over(db, UPLOAD.name, "doc-1", "close_job:J1", NOW, 60) is None
