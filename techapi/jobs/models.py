"""Service jobs as synced from SP-API, flattened for the job-of-the-day queries."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, FetchedValue, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from techapi.db import Base, UTCDateTime


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_store_start", "store_id", "appointment_start"),
        Index("ix_jobs_appointment_start", "appointment_start"),
    )

    service_job_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    service_order_id: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(32))
    marketplace_id: Mapped[str | None] = mapped_column(String(20))
    store_id: Mapped[str | None] = mapped_column(String(100))
    # The current appointment: the ACTIVE one, else the COMPLETED one; never a
    # cancelled (rescheduled-away) appointment.
    appointment_id: Mapped[str | None] = mapped_column(String(100))
    appointment_status: Mapped[str | None] = mapped_column(String(16))
    appointment_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appointment_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    customer_name: Mapped[str | None] = mapped_column(String(200))
    customer_phone: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    scope: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Bumped by every change to what the job's responses show (techapi.jobs.versions): ETags.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The change counter's value at the commit that last changed it (techapi.jobs.changes): the delta feed.
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0", index=True)

    # Loaded when used (detail, sync), not with every job list: the phone's list never shows them.
    technicians: Mapped[list[JobTechnician]] = relationship(
        cascade="all, delete-orphan", lazy="select", order_by="JobTechnician.technician_id"
    )


class JobTechnician(Base):
    """Technicians named on the job's current appointment."""

    __tablename__ = "job_technicians"
    __table_args__ = (
        # A technician's day is one range of this index (techapi.jobs.services.visible_between),
        # whatever the plan's values: not the whole day's jobs, nor all the technician's jobs ever.
        Index("ix_job_technicians_technician_start", "technician_id", "appointment_start"),
    )

    service_job_id: Mapped[str] = mapped_column(
        ForeignKey("jobs.service_job_id", ondelete="CASCADE"), primary_key=True
    )
    technician_id: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    # The job's appointment_start, copied by the database (migration 0013's triggers) whoever writes
    # either row; read back from it after a flush, never written here.
    appointment_start: Mapped[datetime | None] = mapped_column(
        UTCDateTime, server_default=FetchedValue(), server_onupdate=FetchedValue())


class SyncCursor(Base):
    """High-water mark of incremental sync (lastUpdatedAfter)."""

    __tablename__ = "sync_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    updated_after: Mapped[datetime] = mapped_column(UTCDateTime)


class SyncedDay(Base):
    """Days whose appointments have had a full (createdAfter) pull."""

    __tablename__ = "synced_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChangeCounter(Base):
    """One row: the last value handed to a committed change of any job, and the
    database's epoch (random at creation), so a cursor of another database is foreign."""

    __tablename__ = "change_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
    epoch: Mapped[str] = mapped_column(String(32))


class JobDeparture(Base):
    """A job left a technician (no longer named on it) or a store (moved to another):
    the delta feed tells them it is gone. Kept for the offline window, then pruned."""

    __tablename__ = "job_departures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    service_job_id: Mapped[str] = mapped_column(String(100))
    technician_id: Mapped[str | None] = mapped_column(String(50))
    store_id: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
