"""Queueing a task in the caller's transaction, beside the change that causes it,
so a committed change always has its follow-up work queued."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from techapi.queue.kinds import TaskKind
from techapi.queue.models import ACTIVE, Task, TaskState


def enqueue(session: Session, kind: TaskKind, ref: str, now: datetime, delay: float = 0.0) -> Task:
    """Queue `kind` for `ref`; a task of that kind for that ref still pending or running is reused."""
    active = session.scalar(select(Task).where(Task.kind == kind.name, Task.ref == ref, Task.state.in_(ACTIVE)))
    if active is not None:
        return active
    task = Task(kind=kind.name, ref=ref, state=TaskState.PENDING, attempts=0, priority=kind.priority,
                run_after=now + timedelta(seconds=delay), created_at=now, updated_at=now)
    session.add(task)
    return task
