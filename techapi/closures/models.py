"""Closure and cancellation requests, one of each per job, with explicit states."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from techapi.audit.models import AuditEvent
from techapi.auth.models import User
from techapi.db import Base, UTCDateTime
from techapi.states import Transitions


class ClosureState(enum.StrEnum):
    PENDING_APPROVAL = "PENDING_APPROVAL"
    QUEUED = "QUEUED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    REJECTED = "REJECTED"


class ClosureStep(enum.StrEnum):
    """How far sending an approved closure got; resuming starts from here."""

    NONE = "NONE"
    FULFILLMENT_SET = "FULFILLMENT_SET"


S = ClosureState
CLOSURE = Transitions("Closure", ClosureState, {
    S.PENDING_APPROVAL: {S.QUEUED, S.REJECTED, S.COMPLETED, S.FAILED},
    S.QUEUED: {S.COMPLETED, S.FAILED},
    # FAILED -> FAILED: SP-API cancelled a job whose closure had failed; the reason changes.
    S.FAILED: {S.QUEUED, S.COMPLETED, S.FAILED},
    S.REJECTED: {S.PENDING_APPROVAL, S.QUEUED, S.COMPLETED, S.FAILED},
    S.COMPLETED: set(),
})
# While a closure is in one of these, the job's evidence is frozen.
EVIDENCE_LOCKED = frozenset({S.PENDING_APPROVAL, S.QUEUED, S.COMPLETED})
# Asked for and not yet decided or sent: asking again is asking once.
IN_FLIGHT = frozenset({S.PENDING_APPROVAL, S.QUEUED})


class Closure(Base):
    __tablename__ = "closures"
    __table_args__ = (Index("ix_closures_state", "state"),)

    service_job_id: Mapped[str] = mapped_column(ForeignKey("jobs.service_job_id", ondelete="CASCADE"),
                                                primary_key=True)
    state: Mapped[str] = mapped_column(String(20))  # ClosureState, moved by closures.lifecycle only
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    failure_reason: Mapped[str | None] = mapped_column(String(1000))
    step: Mapped[str] = mapped_column(String(20), default=ClosureStep.NONE)  # ClosureStep
    upstream_status: Mapped[str | None] = mapped_column(String(32))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    requester: Mapped[User | None] = relationship(foreign_keys=[requested_by], lazy="select")
    decider: Mapped[User | None] = relationship(foreign_keys=[decided_by], lazy="select")
    # The closure's own entries of the job's audit trail, oldest first.
    history: Mapped[list[AuditEvent]] = relationship(
        primaryjoin=lambda: (foreign(AuditEvent.service_job_id) == Closure.service_job_id)
        & AuditEvent.action.startswith("closure."),
        order_by=AuditEvent.id, viewonly=True, lazy="select")

    @property
    def requested_by_name(self) -> str | None:
        return self.requester.username if self.requester else None

    @property
    def decided_by_name(self) -> str | None:
        return self.decider.username if self.decider else None


class CancellationState(enum.StrEnum):
    QUEUED = "QUEUED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


CANCELLATION = Transitions("Cancellation", CancellationState, {
    CancellationState.QUEUED: {CancellationState.COMPLETED, CancellationState.FAILED},
    CancellationState.FAILED: {CancellationState.QUEUED},
    CancellationState.COMPLETED: set(),
})


class Cancellation(Base):
    __tablename__ = "cancellations"

    service_job_id: Mapped[str] = mapped_column(ForeignKey("jobs.service_job_id", ondelete="CASCADE"),
                                                primary_key=True)
    reason_code: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(12))  # CancellationState, moved by closures.lifecycle only
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    failure_reason: Mapped[str | None] = mapped_column(String(1000))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
