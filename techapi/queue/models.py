"""The tasks table and the task state machine."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from techapi.db import Base, UTCDateTime
from techapi.states import Transitions


class TaskState(enum.StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"


T = TaskState
TASK = Transitions("Task", TaskState, {
    T.PENDING: {T.RUNNING},
    # RUNNING -> RUNNING: a dead worker's lease expired and another took the task over.
    T.RUNNING: {T.RUNNING, T.PENDING, T.DONE, T.FAILED},
    T.DONE: set(),
    T.FAILED: set(),
})
ACTIVE = (TaskState.PENDING, TaskState.RUNNING)


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
