"""Claiming due tasks with a lease, and ending them.

A worker claims a task with a lease; a worker that dies leaves a lease that
expires, and the task is claimed again. On PostgreSQL, FOR UPDATE SKIP LOCKED
lets several workers claim side by side; on SQLite, BEGIN IMMEDIATE serialises
claims. A task is only ended by the worker that still holds its lease.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select

from techapi.db import Database
from techapi.queue.models import ACTIVE, TASK, Task, TaskState


def owner_name(label: str) -> str:
    """Who holds a lease: host and process first, so an operator can find it."""
    return f"{socket.gethostname()}:{os.getpid()}:{label}"


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    ref: str
    attempts: int
    owner: str
    # How the attempt before this one ended: its error, and whether it never ended
    # at all (the task was RUNNING under a lease that expired: its worker died).
    previous_error: str | None = None
    lease_expired: bool = False


def move_task(task: Task, new: TaskState, now: datetime) -> None:
    """The task state machine's one writer: check the move, stamp the time."""
    task.state = TASK.check(task.state, new)
    task.updated_at = now


def _lease(task: Task, owner: str, now: datetime, lease_seconds: float) -> Claimed:
    expired = task.state == TaskState.RUNNING
    move_task(task, TaskState.RUNNING, now)
    task.lease_owner = owner
    task.leased_until = now + timedelta(seconds=lease_seconds)
    task.attempts += 1
    return Claimed(task.id, task.kind, task.ref, task.attempts, owner, task.last_error, expired)


def _claimable(now: datetime):
    return or_(
        and_(Task.state == TaskState.PENDING, Task.run_after <= now),
        and_(Task.state == TaskState.RUNNING, Task.leased_until < now),
    )


def claim(db: Database, owner: str, now: datetime, lease_seconds: float) -> Claimed | None:
    """The most urgent due task, leased to `owner`, or None."""
    with db.transaction() as session:
        task = session.scalar(
            select(Task).where(_claimable(now)).order_by(Task.priority, Task.run_after, Task.id).limit(1)
            .with_for_update(skip_locked=True)
        )
        if task is None:
            return None
        return _lease(task, owner, now, lease_seconds)


class Held(Exception):
    """Another worker holds the task's lease and is running it now."""


def take_over(db: Database, kind: str, ref: str, owner: str, now: datetime, lease_seconds: float) -> Claimed | None:
    """Claim the active task of `kind` for `ref` out of turn, for a task that does
    that work itself (a closure uploading its documents). None when there is no
    such task (done, failed, never queued); Held while another worker runs it."""
    with db.transaction() as session:
        task = session.scalar(select(Task).where(Task.kind == kind, Task.ref == ref, Task.state.in_(ACTIVE))
                              .order_by(Task.id).limit(1).with_for_update())
        if task is None:
            return None
        if task.state == TaskState.RUNNING and task.leased_until is not None and task.leased_until >= now:
            raise Held(f"{kind} {ref} is running under another worker's lease")
        return _lease(task, owner, now, lease_seconds)


def _end(db: Database, claimed: Claimed, now: datetime, new: TaskState, **values) -> bool:
    """Move the task on, only while we still hold its lease; False if we lost it."""
    with db.transaction() as session:
        task = session.get(Task, claimed.id, with_for_update=True)
        if task is None or task.state != TaskState.RUNNING or task.lease_owner != claimed.owner:
            return False
        move_task(task, new, now)
        for key, value in values.items():
            setattr(task, key, value)
        task.lease_owner = None
        task.leased_until = None
        return True


def complete(db: Database, claimed: Claimed, now: datetime) -> bool:
    return _end(db, claimed, now, TaskState.DONE, last_error=None)


def retry_later(db: Database, claimed: Claimed, now: datetime, delay: float, reason: str) -> bool:
    return _end(db, claimed, now, TaskState.PENDING, last_error=reason[:1000],
                run_after=now + timedelta(seconds=delay))


def fail(db: Database, claimed: Claimed, now: datetime, reason: str) -> bool:
    return _end(db, claimed, now, TaskState.FAILED, last_error=reason[:1000])


def outstanding(db: Database) -> tuple[int, datetime | None]:
    """How many tasks are pending or running, and when the earliest may run."""
    with db.session() as session:
        count, first = session.execute(
            select(func.count(), func.min(Task.run_after)).where(Task.state.in_(ACTIVE))).one()
        return count, first
