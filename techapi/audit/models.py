"""The audit_events table: rows are inserted, never updated or deleted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from techapi.db import Base, UTCDateTime


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_job_at", "service_job_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_job_id: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # server time
    device_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(64))  # username, or "worker" / "sync" / "system"
    source: Mapped[str] = mapped_column(String(16))  # api, field_app, offline, worker, sync
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
