"""Recording when the work really started and finished."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from techapi import audit
from techapi.auth.models import User
from techapi.clock import as_utc
from techapi.errors import ConflictError, ValidationError
from techapi.evidence.access import require_open
from techapi.evidence.models import TimeKind, TimeRecord
from techapi.jobs.models import Job

FUTURE_TOLERANCE = timedelta(minutes=5)
# How far from the appointment a time may lie before it is taken for a wrong clock.
APPOINTMENT_SLACK = timedelta(hours=12)


@dataclass(frozen=True)
class WorkTimes:
    service_job_id: str
    start: TimeRecord | None
    finish: TimeRecord | None


def times_of(session: Session, job_id: str) -> WorkTimes:
    return WorkTimes(job_id, session.get(TimeRecord, (job_id, TimeKind.START)),
                     session.get(TimeRecord, (job_id, TimeKind.FINISH)))


def check_time(kind: TimeKind, at: datetime, now: datetime, job: Job, other: TimeRecord | None) -> None:
    """The rules for a recorded time; raises with a message saying why."""
    label = "Start" if kind == TimeKind.START else "Finish"
    if at > now + FUTURE_TOLERANCE:
        raise ValidationError(f"{label} time {at.isoformat()} is more than 5 minutes in the future; "
                              "check the phone's clock", errors={"json": {"at": ["in the future"]}})
    if job.appointment_start is not None:
        end = job.appointment_end or job.appointment_start
        if not (job.appointment_start - APPOINTMENT_SLACK <= at <= end + APPOINTMENT_SLACK):
            raise ValidationError(
                f"{label} time {at.isoformat()} is far outside the appointment "
                f"({job.appointment_start.isoformat()} to {end.isoformat()})",
                errors={"json": {"at": ["far outside the appointment"]}})
    if kind == TimeKind.FINISH:
        if other is None:
            raise ConflictError("Record the start before the finish")
        if at < other.at:
            raise ValidationError(f"Finish time {at.isoformat()} is before the start time {other.at.isoformat()}",
                                  errors={"json": {"at": ["before the start"]}})
    elif other is not None and at > other.at:
        raise ValidationError(f"Start time {at.isoformat()} is after the finish time {other.at.isoformat()}",
                              errors={"json": {"at": ["after the finish"]}})


def record_time(
    session: Session, job: Job, user: User, kind: TimeKind, device_at: datetime | None, now: datetime,
    source: str = "api",
) -> WorkTimes:
    """Record or change a time. The same time again changes nothing (idempotent);
    a different one replaces it, and the change is audited."""
    require_open(session, job)
    at = as_utc(device_at) if device_at is not None else now
    existing = session.get(TimeRecord, (job.service_job_id, kind))
    if existing is not None and existing.at == at:
        return times_of(session, job.service_job_id)
    other_kind = TimeKind.FINISH if kind == TimeKind.START else TimeKind.START
    other = session.get(TimeRecord, (job.service_job_id, other_kind))
    check_time(kind, at, now, job, other)
    offset = device_at.utcoffset() if device_at is not None else None
    values = dict(at=at, device_at=device_at, received_at=now, recorded_by=user.id, source=source,
                  device_offset_minutes=int(offset.total_seconds() // 60) if offset is not None else None)
    if existing is None:
        session.add(TimeRecord(service_job_id=job.service_job_id, kind=kind, **values))
        action, details = f"{kind}.recorded", {"at": at.isoformat()}
    else:
        details = {"from": existing.at.isoformat(), "to": at.isoformat()}
        for key, value in values.items():
            setattr(existing, key, value)
        action = f"{kind}.changed"
    audit.record(session, job.service_job_id, action, now, user.username, actor_user_id=user.id,
                 source=source, device_at=device_at, details=details)
    session.commit()
    return times_of(session, job.service_job_id)
