"""Technician assignments as techapi asked SP-API for them, one row per request.

A request still PENDING is replaced in place (last write wins: new technicians,
new requester, `version` + 1), so the task that sends it always sends the latest
and never a replaced one; a request made after one finished is a new row.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from techapi.db import Base, UTCDateTime
from techapi.states import Transitions


class AssignmentStatus(enum.StrEnum):
    PENDING = "PENDING"
    DONE = "DONE"
    FAILED = "FAILED"


A = AssignmentStatus
ASSIGNMENT = Transitions("Assignment", AssignmentStatus, {
    # PENDING -> PENDING: replaced by a newer request before it was sent.
    A.PENDING: {A.PENDING, A.DONE, A.FAILED},
    A.DONE: set(),
    A.FAILED: set(),
})


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (Index("ix_assignments_job", "service_job_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_job_id: Mapped[str] = mapped_column(ForeignKey("jobs.service_job_id", ondelete="CASCADE"))
    appointment_id: Mapped[str] = mapped_column(String(100))
    technician_ids: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12))  # AssignmentStatus
    error: Mapped[str | None] = mapped_column(String(1000))  # SP-API's message when FAILED
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
