"""A durable task queue in the database (transactional outbox).

Tasks are inserted in the same transaction as the state change that causes
them, so a committed change always has its follow-up work queued. A worker
claims a task with a lease; a worker that dies leaves a lease that expires and
the task is claimed again. On PostgreSQL, FOR UPDATE SKIP LOCKED lets several
workers claim side by side; on SQLite, BEGIN IMMEDIATE serialises claims.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Index, Integer, String, and_, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from techapi.db import Base, Database, UTCDateTime


class TaskState(enum.StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"


# Lower runs first when several tasks are due. A closure uploads its own missing
# documents, so in a backlog closures go first: the scarce upload-destination
# budget is then spent on jobs in order, and fulfillment and completion calls run
# alongside instead of after every upload.
PRIORITY = {"close_job": 0, "cancel_job": 0, "webhook_event": 1, "upload_document": 2}


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_claim", "state", "priority", "run_after"),
        Index("ix_tasks_kind_ref", "kind", "ref"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(12))
    priority: Mapped[int] = mapped_column(Integer, default=5)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    ref: str
    attempts: int
    owner: str


class RetryLater(Exception):
    """Transient failure: run the task again after `delay` seconds."""

    def __init__(self, reason: str, delay: float) -> None:
        super().__init__(reason)
        self.reason, self.delay = reason, delay


class PermanentFailure(Exception):
    """The task cannot succeed as things stand; a person has to act."""


def enqueue(session: Session, kind: str, ref: str, now: datetime, delay: float = 0.0) -> Task:
    """Queue `kind` for `ref` in the caller's transaction; an active task is reused."""
    active = session.scalar(select(Task).where(
        Task.kind == kind, Task.ref == ref, Task.state.in_([TaskState.PENDING, TaskState.RUNNING])))
    if active is not None:
        return active
    task = Task(kind=kind, ref=ref, state=TaskState.PENDING, attempts=0, priority=PRIORITY.get(kind, 5),
                run_after=now + timedelta(seconds=delay), created_at=now, updated_at=now)
    session.add(task)
    return task


def _claimable(now: datetime):
    return or_(
        and_(Task.state == TaskState.PENDING, Task.run_after <= now),
        and_(Task.state == TaskState.RUNNING, Task.leased_until < now),
    )


def claim(db: Database, owner: str, now: datetime, lease_seconds: float) -> Claimed | None:
    with db.session() as session:
        task = session.scalar(
            select(Task).where(_claimable(now)).order_by(Task.priority, Task.run_after, Task.id).limit(1)
            .with_for_update(skip_locked=True)
        )
        if task is None:
            return None
        task.state = TaskState.RUNNING
        task.lease_owner = owner
        task.leased_until = now + timedelta(seconds=lease_seconds)
        task.attempts += 1
        task.updated_at = now
        claimed = Claimed(task.id, task.kind, task.ref, task.attempts, owner)
        session.commit()
        return claimed


def _finish(db: Database, claimed: Claimed, now: datetime, **values) -> bool:
    """Update the task only while we still hold its lease; False if we lost it."""
    with db.session() as session:
        task = session.get(Task, claimed.id, with_for_update=True)
        if task is None or task.state != TaskState.RUNNING or task.lease_owner != claimed.owner:
            return False
        for key, value in values.items():
            setattr(task, key, value)
        task.updated_at = now
        task.lease_owner = None
        task.leased_until = None
        session.commit()
        return True


def complete(db: Database, claimed: Claimed, now: datetime) -> bool:
    return _finish(db, claimed, now, state=TaskState.DONE, last_error=None)


def retry_later(db: Database, claimed: Claimed, now: datetime, delay: float, reason: str) -> bool:
    return _finish(db, claimed, now, state=TaskState.PENDING, last_error=reason[:1000],
                   run_after=now + timedelta(seconds=delay))


def fail(db: Database, claimed: Claimed, now: datetime, reason: str) -> bool:
    return _finish(db, claimed, now, state=TaskState.FAILED, last_error=reason[:1000])


def outstanding(db: Database) -> tuple[int, datetime | None]:
    """How many tasks are pending or running, and when the earliest may run."""
    with db.session() as session:
        count, first = session.execute(
            select(func.count(), func.min(Task.run_after))
            .where(Task.state.in_([TaskState.PENDING, TaskState.RUNNING]))
        ).one()
        return count, first
