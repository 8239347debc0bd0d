"""Adding and rescheduling an appointment on SP-API, synchronously: checked here
first (who, reason code, an active appointment or none), then sent; on success
the job is fetched again and written through the sync's upsert with the audit
event, in one transaction; on failure nothing changes here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from techapi.appointments.schemas import SlotsSchema
from techapi.appointments.slots import SlotCache, forget_store, fresh_job_slots
from techapi.appointments.upstream import spapi_errors, translated
from techapi.audit.models import AuditEvent
from techapi.audit.trail import Actor, record
from techapi.auth.models import Role, User
from techapi.clock import iso_z
from techapi.closures.lifecycle import lock_job
from techapi.context import Deps
from techapi.db import end_read, transaction
from techapi.errors import ConflictError, ForbiddenError, ValidationError
from techapi.jobs import services as jobs
from techapi.jobs.models import Job
from techapi.jobs.sync import upsert_jobs
from techapi.spapi.errors import SpApiError, SpApiSlotUnavailable
from techapi.spapi.reasons import RescheduleReason, reschedule_reasons
from techapi.spapi.scheduling_types import AppointmentResult, SpApiWarning
from techapi.spapi.types import Appointment, ServiceJob, parse_appointment

log = logging.getLogger(__name__)

# The model's ServiceJob carries no service type, so a heavy-bulky job cannot be
# told apart: the guide's Default column applies.
REASON_COLUMN = "default"


@dataclass(frozen=True)
class Booking:
    service_job_id: str
    appointment: Appointment
    warnings: tuple[SpApiWarning, ...]

    @property
    def technician_ids(self) -> list[str]:
        return [t.technician_id for t in self.appointment.technicians]


@dataclass(frozen=True)
class Reasons:
    service_job_id: str
    marketplace_id: str | None
    reasons: list[RescheduleReason]


def _marketplace(deps: Deps, job: Job) -> str:
    return job.marketplace_id or deps.settings.marketplace_id


def valid_reasons(deps: Deps, session: Session, user: User, job_id: str) -> Reasons:
    job = jobs.job_for(session, user, job_id)
    marketplace = _marketplace(deps, job)
    return Reasons(job.service_job_id, marketplace, reschedule_reasons(marketplace, column=REASON_COLUMN))


def _check_reason(deps: Deps, job: Job, reason_code: str) -> None:
    allowed = [r.code for r in reschedule_reasons(_marketplace(deps, job), column=REASON_COLUMN)]
    if reason_code not in allowed:
        raise ValidationError(
            f"Reason code {reason_code} is not valid in this marketplace; use one of {', '.join(allowed) or 'none'}",
            errors={"json": {"reasonCode": [f"one of {', '.join(allowed)}"]}, "validCodes": allowed})


def _active(job: Job) -> bool:
    return job.appointment_id is not None and job.appointment_status == "ACTIVE"


def add(deps: Deps, session: Session, cache: SlotCache, user: User, job_id: str, start: datetime,
        duration: int | None) -> Booking:
    """A supervisor books the first appointment of a job that has none active."""
    job = jobs.job_for(session, user, job_id)
    if user.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise ForbiddenError("Only a supervisor of the store adds an appointment")
    if _active(job):
        raise ConflictError("The job already has an active appointment; reschedule it instead",
                            errors={"appointmentId": job.appointment_id})
    store_id = job.store_id
    end_read(session)
    result, fresh = _book(deps, user, job_id, start, lambda: deps.spapi.add_appointment(job_id, start, duration),
                          _made_at(start))
    booking = _booking(job_id, result, fresh, start, duration)
    appt = booking.appointment
    with transaction(session):
        _once(session, job_id, "appointment.added", "appointmentId", appt.appointment_id)
        _store(deps, session, fresh, job_id, booking)
        record(session, job_id, "appointment.added", deps.clock.now(), _actor(user), details={
            "appointmentId": appt.appointment_id, "start": _iso(appt.start), "end": _iso(appt.end),
            "durationMinutes": appt.duration_minutes, "warnings": _warnings(result.warnings)})
    forget_store(cache, store_id)
    return booking


def reschedule(deps: Deps, session: Session, cache: SlotCache, user: User, job_id: str, start: datetime,
               duration: int | None, reason_code: str) -> Booking:
    """The assigned technician or a supervisor moves the active appointment; SP-API
    gives it a new ID and drops its technicians (RESOURCES_UNASSIGNED)."""
    job = jobs.job_for(session, user, job_id)  # a technician sees only the jobs assigned to them
    _check_reason(deps, job, reason_code)
    if not _active(job):
        raise ConflictError("The job has no active appointment to reschedule")
    old_id, old_start, store_id = job.appointment_id, job.appointment_start, job.store_id
    assert old_id is not None
    before = sorted(t.technician_id for t in job.technicians)  # SP-API drops them from the new appointment
    end_read(session)
    result, fresh = _book(deps, user, job_id, start,
                          lambda: deps.spapi.reschedule_appointment(job_id, old_id, start, reason_code, duration),
                          _made_at(start, replacing=old_id))
    booking = _booking(job_id, result, fresh, start, duration)
    with transaction(session):
        _once(session, job_id, "appointment.rescheduled", "newAppointmentId", result.appointment_id)
        _store(deps, session, fresh, job_id, booking)
        record(session, job_id, "appointment.rescheduled", deps.clock.now(), _actor(user), details={
            "reasonCode": reason_code, "oldAppointmentId": old_id, "newAppointmentId": result.appointment_id,
            "oldStart": _iso(old_start), "newStart": _iso(booking.appointment.start),
            "technicianIds": before, "warnings": _warnings(result.warnings)})
    forget_store(cache, store_id)
    return booking


def _book(deps: Deps, user: User, job_id: str, start: datetime, call: Callable[[], AppointmentResult],
          landed: Callable[[ServiceJob], Appointment | None]) -> tuple[AppointmentResult, ServiceJob | None]:
    """SP-API's answer and, when it is a success, the job as SP-API now has it."""
    try:
        result = call()
    except SpApiSlotUnavailable as exc:
        slots = fresh_job_slots(deps, user, job_id, start)
        found: dict[str, Any] = {"spapi": spapi_errors(exc)}
        if slots is not None:
            found.update(SlotsSchema().dump(slots))
        raise ConflictError("That slot is no longer available; choose one of the slots in `errors.slots`",
                            errors=found) from None
    except SpApiError as exc:
        # An answer lost after SP-API did the work (a 5xx after commit, then a retry
        # refused because it was done) must not be reported as nothing changed.
        fresh = _refetch(deps, job_id)
        done = landed(fresh) if fresh is not None else None
        if done is None or done.appointment_id is None:
            raise translated(exc) from None
        log.warning("job %s: %s, but the appointment was made (%s)", job_id, exc, done.appointment_id)
        return AppointmentResult(done.appointment_id), fresh
    except ValueError as exc:  # the client's own checks of what we pass on
        raise ValidationError(str(exc)) from None
    return result, _refetch(deps, job_id)


def _once(session: Session, job_id: str, action: str, key: str, appointment_id: str | None) -> None:
    """Of two requests that made the same appointment (one of them through a lost answer
    found again), only the first is recorded: the later one is told the job changed."""
    lock_job(session, job_id)
    recorded = session.scalars(select(AuditEvent.details).where(AuditEvent.service_job_id == job_id,
                                                                AuditEvent.action == action))
    if any(isinstance(d, dict) and d.get(key) == appointment_id for d in recorded):
        raise ConflictError("Another request changed this appointment meanwhile; reload the job",
                            errors={"appointmentId": appointment_id})


def _made_at(start: datetime, replacing: str | None = None) -> Callable[[ServiceJob], Appointment | None]:
    """Finds, in a job fetched again, the ACTIVE appointment a lost answer would have
    named: at `start` and, for a reschedule, replacing the old appointment."""
    def find(job: ServiceJob) -> Appointment | None:
        for raw in job.raw.get("appointments") or []:
            appt = parse_appointment(raw) if isinstance(raw, dict) else None
            if appt is not None and appt.status == "ACTIVE" and appt.start == start and (
                    replacing is None or raw.get("rescheduledAppointmentId") == replacing):
                return appt
        return None
    return find


def _refetch(deps: Deps, job_id: str) -> ServiceJob | None:
    """The job as SP-API now has it; None if it cannot say (the next sync will)."""
    try:
        return deps.spapi.get_service_job(job_id)
    except SpApiError as exc:
        log.warning("job %s booked but not fetched again: %s", job_id, exc)
        return None


def _store(deps: Deps, session: Session, fresh: ServiceJob | None, job_id: str, booking: Booking) -> None:
    """Written exactly as a sync writes it, its hooks included; when SP-API could not
    be asked again, what its answer said (the next sync brings the rest)."""
    if fresh is None:
        job = session.get(Job, job_id)
        appt = booking.appointment
        if job is not None:
            job.appointment_id, job.appointment_status = appt.appointment_id, "ACTIVE"
            job.appointment_start, job.duration_minutes = appt.start, appt.duration_minutes
            job.appointment_end = appt.end
            if any(w.code == "RESOURCES_UNASSIGNED" for w in booking.warnings):
                job.technicians.clear()  # SP-API dropped them from the new appointment
        return
    now = deps.clock.now()
    upsert_jobs(session, [fresh], now)
    for hook in deps.sync_hooks:
        hook(session, [fresh], now)


def _booking(job_id: str, result: AppointmentResult, fresh: ServiceJob | None, start: datetime,
             duration: int | None) -> Booking:
    found = next((a for a in fresh.appointments if a.appointment_id == result.appointment_id), None) \
        if fresh is not None else None
    return Booking(job_id, found or Appointment(result.appointment_id, "ACTIVE", start, duration), result.warnings)


def _actor(user: User) -> Actor:
    return Actor.user(user.username, user.id)


def _iso(value: datetime | None) -> str | None:
    return iso_z(value) if value is not None else None


def _warnings(warnings: tuple[SpApiWarning, ...]) -> list[dict[str, str]]:
    return [{"code": w.code, "message": w.message} for w in warnings]
