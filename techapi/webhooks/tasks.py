"""Applying a field-app event (a worker task): exactly what the technician's own
call would do, through the same steps, in one transaction per event."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from techapi.audit.trail import Actor, record
from techapi.auth.models import Role, User
from techapi.closures.services import request_closure
from techapi.context import Deps
from techapi.edge.times import OUT_OF_RANGE, in_range
from techapi.errors import DomainError, StartNotRecorded
from techapi.evidence.models import TimeKind
from techapi.evidence.times import TimeInput, record_time
from techapi.jobs.models import Job, JobTechnician
from techapi.queue.kinds import RetryLater, TaskKind
from techapi.webhooks.models import EVENT, EventStatus, WebhookEvent

log = logging.getLogger(__name__)
SOURCE = "field_app"
TIME_EVENTS = {"job.started": TimeKind.START, "job.finished": TimeKind.FINISH}
KNOWN = {*TIME_EVENTS, "job.closure_requested"}
# A job.finished delivered before its job.started waits this many attempts for it.
OUT_OF_ORDER_RETRIES = 5


class Refused(Exception):
    """The event cannot be applied as sent."""


class NotAssigned(Refused):
    """The technician named is not on the job (audited: it may be an attempt to act on another's job)."""

    def __init__(self, technician_id: str, job_id: str) -> None:
        super().__init__(f"technician {technician_id} is not assigned to job {job_id}")
        self.technician_id = technician_id


def move_event(event: WebhookEvent, new: EventStatus, now: datetime, result: str | None = None) -> None:
    """The webhook event state machine's one writer: check, stamp, keep the result."""
    event.status = EVENT.check(event.status, new)
    event.result, event.processed_at = result, now


def _device_time(data: dict[str, Any]) -> datetime:
    raw = data.get("at")
    if not isinstance(raw, str) or not raw.strip():
        raise Refused("data.at is required (ISO 8601 with a UTC offset)")
    try:
        text = raw.strip()
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        raise Refused(f"data.at {raw!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise Refused("data.at needs a UTC offset")
    if not in_range(parsed):
        raise Refused(f"data.at {raw!r} is out of range: {OUT_OF_RANGE}")
    return parsed


def _apply(deps: Deps, session: Session, event: WebhookEvent, now: datetime) -> None:
    data = event.payload.get("data") or {}
    job_id, tech_id = data.get("serviceJobId"), data.get("technicianId")
    if not isinstance(job_id, str) or not isinstance(tech_id, str) or not job_id or not tech_id:
        raise Refused("data.serviceJobId and data.technicianId are required")
    job = session.get(Job, job_id)
    if job is None:
        raise Refused(f"unknown job {job_id}")
    user = session.scalar(select(User).where(User.technician_id == tech_id, User.active.is_(True),
                                             User.role == Role.TECHNICIAN))
    assigned = session.scalar(select(JobTechnician).where(JobTechnician.service_job_id == job_id,
                                                          JobTechnician.technician_id == tech_id))
    if user is None or assigned is None:
        raise NotAssigned(tech_id, job_id)
    actor = Actor.user(user.username, user.id, SOURCE)
    if event.type in TIME_EVENTS:
        record_time(session, job, actor, TIME_EVENTS[event.type], TimeInput(device_at=_device_time(data)), now,
                    deps.evidence_lock)
    else:
        request_closure(session, job, actor, now, deps.settings.require_approval, deps.settings.min_photos)
    move_event(event, EventStatus.APPLIED, now)


def _reject(deps: Deps, webhook_id: str, reason: str, audit_as: str | None = None,
            audit_details: dict[str, Any] | None = None) -> None:
    """Mark the event REJECTED; with `audit_as`, also put it on the job's audit trail."""
    now = deps.clock.now()
    with deps.db.transaction() as session:
        event = session.get(WebhookEvent, webhook_id)
        if event is None or event.status != EventStatus.RECEIVED:
            return
        data = event.payload.get("data") or {}
        if audit_as is not None and isinstance(data.get("serviceJobId"), str):
            actor = Actor(f"field-app:{data.get('technicianId')}", SOURCE)
            record(session, data["serviceJobId"], audit_as, now, actor,
                   details={"webhookId": webhook_id, "type": event.type, **(audit_details or {"reason": reason})})
        move_event(event, EventStatus.REJECTED, now, reason[:500])


def process_event(deps: Deps, webhook_id: str, attempt: int) -> None:
    try:
        with deps.db.transaction() as session:
            event = session.get(WebhookEvent, webhook_id)
            if event is None or event.status != EventStatus.RECEIVED:
                return
            _apply(deps, session, event, deps.clock.now())
    except NotAssigned as exc:
        _reject(deps, webhook_id, str(exc), "webhook.refused",
                {"technicianId": exc.technician_id, "reason": "technician not assigned to this job"})
    except Refused as exc:
        _reject(deps, webhook_id, str(exc))
    except StartNotRecorded as exc:
        if attempt < OUT_OF_ORDER_RETRIES:
            raise RetryLater(exc.message) from None  # delivered out of order: the start may be on its way
        _reject(deps, webhook_id, exc.message, "webhook.rejected")
    except DomainError as exc:
        _reject(deps, webhook_id, exc.message, "webhook.rejected")


def event_failed(deps: Deps, webhook_id: str, reason: str) -> None:
    """The task gave up (its handler kept crashing): the event is REJECTED and on the job's trail."""
    _reject(deps, webhook_id, reason, "webhook.failed", {"reason": reason[:500]})


WEBHOOK_EVENT = TaskKind("webhook_event", priority=1, run=process_event, give_up=event_failed)
KINDS = (WEBHOOK_EVENT,)
