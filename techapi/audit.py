"""The append-only audit trail: who did what to which job, when (server and device time)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from techapi.db import Base, UTCDateTime


class AuditEvent(Base):
    """Rows are inserted, never updated or deleted."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_job_at", "service_job_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_job_id: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # server time
    device_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(64))  # username, or "worker" / "sync"
    source: Mapped[str] = mapped_column(String(16))  # api, webhook, offline, worker
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def record(
    session: Session,
    service_job_id: str,
    action: str,
    at: datetime,
    actor: str,
    *,
    actor_user_id: int | None = None,
    source: str = "api",
    device_at: datetime | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event in the caller's transaction."""
    event = AuditEvent(service_job_id=service_job_id, action=action, at=at, device_at=device_at,
                       actor_user_id=actor_user_id, actor=actor, source=source, details=details or {})
    session.add(event)
    return event
