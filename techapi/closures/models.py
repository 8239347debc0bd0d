"""Closure and cancellation requests, one of each per job, with explicit states."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from techapi.db import Base, UTCDateTime


class ClosureState(enum.StrEnum):
    PENDING_APPROVAL = "PENDING_APPROVAL"
    QUEUED = "QUEUED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    REJECTED = "REJECTED"


S = ClosureState
# Which state may follow which; everything else is refused.
CLOSURE_TRANSITIONS: dict[ClosureState, frozenset[ClosureState]] = {
    S.PENDING_APPROVAL: frozenset({S.QUEUED, S.REJECTED, S.COMPLETED, S.FAILED}),
    S.QUEUED: frozenset({S.COMPLETED, S.FAILED}),
    S.FAILED: frozenset({S.QUEUED, S.COMPLETED}),
    S.REJECTED: frozenset({S.PENDING_APPROVAL, S.QUEUED, S.COMPLETED, S.FAILED}),
    S.COMPLETED: frozenset(),
}
# While a closure is in one of these, the job's evidence is frozen.
EVIDENCE_LOCKED = frozenset({S.PENDING_APPROVAL, S.QUEUED, S.COMPLETED})


def can_move(current: str, new: str) -> bool:
    return ClosureState(new) in CLOSURE_TRANSITIONS[ClosureState(current)]


class Closure(Base):
    __tablename__ = "closures"
    __table_args__ = (Index("ix_closures_state", "state"),)

    service_job_id: Mapped[str] = mapped_column(ForeignKey("jobs.service_job_id", ondelete="CASCADE"),
                                                primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    failure_reason: Mapped[str | None] = mapped_column(String(1000))
    # How far sending got: NONE, FULFILLMENT_SET, COMPLETION_SENT; resuming starts from here.
    step: Mapped[str] = mapped_column(String(20), default="NONE")
    upstream_status: Mapped[str | None] = mapped_column(String(32))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CancellationState(enum.StrEnum):
    QUEUED = "QUEUED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class Cancellation(Base):
    __tablename__ = "cancellations"

    service_job_id: Mapped[str] = mapped_column(ForeignKey("jobs.service_job_id", ondelete="CASCADE"),
                                                primary_key=True)
    reason_code: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(12))
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    failure_reason: Mapped[str | None] = mapped_column(String(1000))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
