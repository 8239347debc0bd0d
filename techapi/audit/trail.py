"""Appending to the audit trail and reading it back, always in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from techapi.audit.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who acts, and through what: a user through the API, offline replay or the
    field app; or techapi itself (the worker, the sync)."""

    name: str
    source: str = "api"
    user_id: int | None = None

    @classmethod
    def user(cls, username: str, user_id: int, source: str = "api") -> Actor:
        return cls(username, source, user_id)


WORKER = Actor("worker", "worker")
SYNC = Actor("sync", "sync")


def record(session: Session, service_job_id: str, action: str, at: datetime, actor: Actor, *,
           device_at: datetime | None = None, details: dict[str, Any] | None = None) -> AuditEvent:
    """Append an event in the caller's transaction."""
    event = AuditEvent(service_job_id=service_job_id, action=action, at=at, device_at=device_at,
                       actor_user_id=actor.user_id, actor=actor.name[:64], source=actor.source,
                       details=details or {})
    session.add(event)
    return event


def events_of(session: Session, service_job_id: str, prefix: str | None = None) -> list[AuditEvent]:
    """A job's events, oldest first; with `prefix`, only actions starting with it."""
    query = select(AuditEvent).where(AuditEvent.service_job_id == service_job_id)
    if prefix:
        query = query.where(AuditEvent.action.startswith(prefix))
    # By time, then by insertion: a worker's event can be inserted after a request's that it precedes
    # (each takes its time before its commit), and the trail is read as a timeline.
    return list(session.scalars(query.order_by(AuditEvent.at, AuditEvent.id)))
