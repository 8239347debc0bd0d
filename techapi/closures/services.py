"""Asking for closure, deciding on it, retrying it, cancelling a job.

Each state change and the task it causes are written in one transaction (the
outbox), with an audit event, so nothing is half-done when a process dies.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from techapi import audit
from techapi.auth.models import Role, User
from techapi.closures.models import Cancellation, CancellationState, Closure, ClosureState, can_move
from techapi.errors import ConflictError, ForbiddenError, ValidationError
from techapi.evidence.summary import evidence_for
from techapi.jobs import readiness
from techapi.jobs import services as jobs
from techapi.jobs.models import Job
from techapi.spapi.reasons import allowed_cancellation_codes
from techapi.worker.queue import enqueue

CLOSE_TASK = "close_job"
CANCEL_TASK = "cancel_job"


def closure_of(session: Session, job_id: str) -> Closure | None:
    return session.get(Closure, job_id)


def _move(session: Session, closure: Closure, new: ClosureState, now: datetime) -> None:
    if not can_move(closure.state, new):
        raise ConflictError(f"Closure is {closure.state}; it cannot become {new}")
    closure.state = new
    closure.updated_at = now


def _queue(session: Session, closure: Closure, now: datetime) -> None:
    closure.failure_reason = None
    enqueue(session, CLOSE_TASK, closure.service_job_id, now)


def request_closure(session: Session, job: Job, user: User, now: datetime, require_approval: bool,
                    min_photos: int, source: str = "api", commit: bool = True) -> Closure:
    """The technician asks for closure: refused with what is missing, else pending (or queued)."""
    closure = closure_of(session, job.service_job_id)
    if closure is not None and closure.state in (ClosureState.PENDING_APPROVAL, ClosureState.QUEUED):
        return closure  # asking twice is asking once
    if closure is not None and closure.state == ClosureState.COMPLETED:
        raise ConflictError("The job is already closed")
    if closure is not None and closure.state == ClosureState.FAILED:
        raise ConflictError(f"Sending this closure failed ({closure.failure_reason}); a supervisor can retry it")
    if job.status != readiness.CLOSABLE_STATUS:
        raise ConflictError(f"Job is {job.status} and cannot be closed")
    evidence = evidence_for(session, [job.service_job_id])[job.service_job_id]
    missing = readiness.still_needed(job.status, job.appointment_status, evidence, min_photos)
    if missing:
        raise ConflictError(f"The job is not ready to close: {', '.join(missing)} missing",
                            errors={"stillNeeded": missing})
    target = ClosureState.PENDING_APPROVAL if require_approval else ClosureState.QUEUED
    if closure is None:
        closure = Closure(service_job_id=job.service_job_id, state=target, requested_by=user.id,
                          requested_at=now, step="NONE", updated_at=now)
        session.add(closure)
    else:
        _move(session, closure, target, now)
        closure.requested_by, closure.requested_at = user.id, now
        closure.decided_by = closure.decided_at = closure.rejection_reason = None
    audit.record(session, job.service_job_id, "closure.requested", now, user.username, actor_user_id=user.id,
                 source=source)
    if target == ClosureState.QUEUED:
        _queue(session, closure, now)
        audit.record(session, job.service_job_id, "closure.queued", now, "system", source=source,
                     details={"reason": "approval not required"})
    session.flush()
    if commit:
        session.commit()
    return closure


def _decidable(session: Session, user: User, job_id: str) -> tuple[Job, Closure]:
    """A closure a supervisor of the job's store may decide on (404 outside their stores)."""
    job = jobs.job_for(session, user, job_id)
    if user.role != Role.SUPERVISOR:
        raise ForbiddenError("Only a supervisor of the job's store decides on closures")
    closure = closure_of(session, job.service_job_id)
    if closure is None:
        raise ConflictError("No closure has been asked for on this job")
    return job, closure


def approve(session: Session, user: User, job_id: str, now: datetime) -> Closure:
    job, closure = _decidable(session, user, job_id)
    if closure.state in (ClosureState.QUEUED, ClosureState.COMPLETED):
        return closure  # approving twice is approving once
    if closure.state != ClosureState.PENDING_APPROVAL:
        raise ConflictError(f"Closure is {closure.state}; only a pending closure can be approved")
    _move(session, closure, ClosureState.QUEUED, now)
    closure.decided_by, closure.decided_at = user.id, now
    _queue(session, closure, now)
    audit.record(session, job.service_job_id, "closure.approved", now, user.username, actor_user_id=user.id)
    session.commit()
    return closure


def reject(session: Session, user: User, job_id: str, reason: str, now: datetime) -> Closure:
    job, closure = _decidable(session, user, job_id)
    if closure.state == ClosureState.REJECTED and closure.rejection_reason == reason:
        return closure
    if closure.state != ClosureState.PENDING_APPROVAL:
        raise ConflictError(f"Closure is {closure.state}; only a pending closure can be rejected")
    _move(session, closure, ClosureState.REJECTED, now)
    closure.decided_by, closure.decided_at, closure.rejection_reason = user.id, now, reason
    audit.record(session, job.service_job_id, "closure.rejected", now, user.username, actor_user_id=user.id,
                 details={"reason": reason})
    session.commit()
    return closure


def retry(session: Session, user: User, job_id: str, now: datetime) -> Closure:
    job, closure = _decidable(session, user, job_id)
    if closure.state in (ClosureState.QUEUED, ClosureState.COMPLETED):
        return closure
    if closure.state != ClosureState.FAILED:
        raise ConflictError(f"Closure is {closure.state}; only a failed closure can be retried")
    _move(session, closure, ClosureState.QUEUED, now)
    _queue(session, closure, now)
    audit.record(session, job.service_job_id, "closure.retried", now, user.username, actor_user_id=user.id)
    session.commit()
    return closure


def list_closures(session: Session, user: User, state: str | None) -> list[tuple[Closure, Job]]:
    if user.role == Role.TECHNICIAN:
        raise ForbiddenError("Closures are listed for supervisors")
    query = (select(Closure, Job).join(Job, Job.service_job_id == Closure.service_job_id)
             .options(selectinload(Job.technicians)))
    if user.role == Role.SUPERVISOR:
        query = query.where(Job.store_id.in_(user.store_ids))
    if state:
        query = query.where(Closure.state == state)
    return [(c, j) for c, j in session.execute(query.order_by(Closure.requested_at, Closure.service_job_id))]


# Cancellation ----------------------------------------------------------------------


def request_cancellation(session: Session, job: Job, user: User, reason_code: str, now: datetime) -> Cancellation:
    if user.role not in (Role.TECHNICIAN, Role.SUPERVISOR):
        raise ForbiddenError("Only the technician or a supervisor of the store cancels a job")
    existing = session.get(Cancellation, job.service_job_id)
    if existing is not None and existing.state in (CancellationState.QUEUED, CancellationState.COMPLETED):
        if existing.reason_code == reason_code:
            return existing
        raise ConflictError(f"A cancellation with reason {existing.reason_code} is already {existing.state}")
    if job.status != readiness.CLOSABLE_STATUS:
        raise ConflictError(f"Job is {job.status} and cannot be cancelled")
    closure = closure_of(session, job.service_job_id)
    if closure is not None and closure.state in (ClosureState.PENDING_APPROVAL, ClosureState.QUEUED):
        raise ConflictError(f"A closure is {closure.state}; reject it before cancelling the job")
    allowed = allowed_cancellation_codes(job.marketplace_id or "")
    if reason_code not in allowed:
        raise ValidationError(
            f"Reason code {reason_code} is not valid in this marketplace; use one of {', '.join(allowed) or 'none'}",
            errors={"json": {"reasonCode": [f"one of {', '.join(allowed)}"]}})
    if existing is None:
        existing = Cancellation(service_job_id=job.service_job_id, requested_at=now, attempts=0,
                                reason_code=reason_code, state=CancellationState.QUEUED, updated_at=now)
        session.add(existing)
    existing.reason_code, existing.state = reason_code, CancellationState.QUEUED
    existing.requested_by, existing.requested_at, existing.failure_reason = user.id, now, None
    enqueue(session, CANCEL_TASK, job.service_job_id, now)
    audit.record(session, job.service_job_id, "cancellation.requested", now, user.username, actor_user_id=user.id,
                 details={"reasonCode": reason_code})
    session.commit()
    return existing
