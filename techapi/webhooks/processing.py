"""Applying a field-app event: exactly what the technician's own call would do."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select

from techapi import audit
from techapi.auth.models import Role, User
from techapi.closures.services import request_closure
from techapi.context import Deps
from techapi.errors import ConflictError, DomainError
from techapi.evidence.models import TimeKind
from techapi.evidence.times import TimeInput, record_time
from techapi.jobs.models import Job, JobTechnician
from techapi.webhooks.models import WebhookEvent
from techapi.worker.queue import RetryLater

log = logging.getLogger(__name__)
SOURCE = "field_app"
TIME_EVENTS = {"job.started": TimeKind.START, "job.finished": TimeKind.FINISH}
KNOWN = {*TIME_EVENTS, "job.closure_requested"}
OUT_OF_ORDER_RETRIES = 5


class Refused(Exception):
    pass


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
    return parsed


def _finish(deps: Deps, webhook_id: str, status: str, result: str | None) -> None:
    with deps.db.session() as session:
        event = session.get(WebhookEvent, webhook_id)
        if event is not None:
            event.status, event.result, event.processed_at = status, result, deps.clock.now()
            session.commit()


def process_event(deps: Deps, webhook_id: str, attempt: int) -> None:
    now = deps.clock.now()
    with deps.db.session() as session:
        event = session.get(WebhookEvent, webhook_id)
        if event is None or event.status != "RECEIVED":
            return
        data = event.payload.get("data") or {}
        job_id, tech_id = data.get("serviceJobId"), data.get("technicianId")
        try:
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
                audit.record(session, job_id, "webhook.refused", now, f"field-app:{tech_id}"[:64], source=SOURCE,
                             details={"webhookId": webhook_id, "type": event.type, "technicianId": tech_id,
                                      "reason": "technician not assigned to this job"})
                session.commit()
                raise Refused(f"technician {tech_id} is not assigned to job {job_id}")
            if event.type in TIME_EVENTS:
                record_time(session, job, user, TIME_EVENTS[event.type], TimeInput(device_at=_device_time(data)),
                            now, source=SOURCE)
            else:
                request_closure(session, job, user, now, deps.settings.require_approval, deps.settings.min_photos,
                                source=SOURCE)
        except Refused as exc:
            session.rollback()
            _finish(deps, webhook_id, "REJECTED", str(exc))
            return
        except DomainError as exc:
            session.rollback()
            if isinstance(exc, ConflictError) and "before the finish" in exc.message and \
                    attempt < OUT_OF_ORDER_RETRIES:
                # Delivered out of order: the start is probably on its way.
                raise RetryLater(exc.message, deps.settings.task_backoff_seconds * 2 ** attempt) from None
            audit.record(session, job_id, "webhook.rejected", now, f"field-app:{tech_id}"[:64], source=SOURCE,
                         details={"webhookId": webhook_id, "type": event.type, "reason": exc.message})
            session.commit()
            _finish(deps, webhook_id, "REJECTED", exc.message)
            return
    _finish(deps, webhook_id, "APPLIED", None)
