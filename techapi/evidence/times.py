"""Recording when the work really started and finished: the rules (pure) and the
step that applies them in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from techapi.audit.trail import Actor, record
from techapi.clock import as_utc
from techapi.context import EvidenceLock
from techapi.errors import ConflictError, StartNotRecorded, ValidationError
from techapi.evidence.access import require_open
from techapi.evidence.models import TimeKind, TimeRecord
from techapi.jobs.models import Job

FUTURE_TOLERANCE = timedelta(minutes=5)
# How far from the appointment a time may lie before it is taken for a wrong clock.
APPOINTMENT_SLACK = timedelta(hours=12)


@dataclass(frozen=True)
class TimeInput:
    """What a client sends: the device's time, and the version it changes (if any)."""

    device_at: datetime | None = None
    version: int | None = None
    # Set when the server corrected a wrong device clock (offline replay).
    corrected_at: datetime | None = None
    clock_skew_seconds: float | None = None


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
            raise StartNotRecorded("Record the start before the finish")
        if at < other.at:
            raise ValidationError(f"Finish time {at.isoformat()} is before the start time {other.at.isoformat()}",
                                  errors={"json": {"at": ["before the start"]}})
    elif other is not None and at > other.at:
        raise ValidationError(f"Start time {at.isoformat()} is after the finish time {other.at.isoformat()}",
                              errors={"json": {"at": ["after the finish"]}})


def times_of(session: Session, job_id: str) -> tuple[TimeRecord | None, TimeRecord | None]:
    """(start, finish) of a job, either None when not recorded."""
    return session.get(TimeRecord, (job_id, TimeKind.START)), session.get(TimeRecord, (job_id, TimeKind.FINISH))


def lock_job(session: Session, job: Job) -> None:
    """Serialise writers of one job's evidence: a row lock on PostgreSQL (SQLite's
    BEGIN IMMEDIATE already serialises every writer)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Job.service_job_id).where(Job.service_job_id == job.service_job_id)
                        .with_for_update())


def record_time(session: Session, job: Job, actor: Actor, kind: TimeKind, given: TimeInput, now: datetime,
                locked: EvidenceLock) -> None:
    """Record or change a time, in the caller's transaction. The same time again
    changes nothing (idempotent). Changing a recorded time needs the version the
    caller saw: two writers racing with different values end with one winner and
    a 409 for the other."""
    lock_job(session, job)
    require_open(session, job, locked)
    device_at = given.device_at
    at = as_utc(given.corrected_at or device_at or now)
    existing = session.get(TimeRecord, (job.service_job_id, kind))
    if existing is not None and existing.at == at:
        return
    if existing is not None and given.version != existing.version:
        raise ConflictError(
            f"{kind.capitalize()} is already recorded as {existing.at.isoformat()} (version {existing.version}); "
            "to change it, send that version",
            errors={"json": {"version": [f"current version is {existing.version}"]}})
    other_kind = TimeKind.FINISH if kind == TimeKind.START else TimeKind.START
    check_time(kind, at, now, job, session.get(TimeRecord, (job.service_job_id, other_kind)))
    offset = device_at.utcoffset() if device_at is not None else None
    values = dict(at=at, device_at=device_at, received_at=now, recorded_by=actor.user_id, source=actor.source,
                  device_offset_minutes=int(offset.total_seconds() // 60) if offset is not None else None)
    details: dict = {"at": at.isoformat()}
    if given.corrected_at is not None:
        details.update(clockCorrected=True, deviceAt=device_at.isoformat() if device_at else None,
                       clockSkewSeconds=round(given.clock_skew_seconds or 0.0, 1))
    if existing is None:
        session.add(TimeRecord(service_job_id=job.service_job_id, kind=kind, version=1, **values))
        action = f"{kind}.recorded"
    else:
        details["from"] = existing.at.isoformat()
        for key, value in values.items():
            setattr(existing, key, value)
        existing.version += 1
        action = f"{kind}.changed"
    record(session, job.service_job_id, action, now, actor, device_at=device_at, details=details)
