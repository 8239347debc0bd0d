"""Asking for closure, deciding on it, retrying it, cancelling a job.

Each state change and the task it causes are written in one transaction (the
outbox), with an audit event, so nothing is half-done when a process dies.
`request_closure` is a step (offline replay and the field app call it inside
their own transactions); the other public functions are entry points.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session

from techapi.audit.models import AuditEvent
from techapi.audit.trail import Actor, events_of, record
from techapi.auth.models import Role, User
from techapi.closures.lifecycle import lock_job, move_cancellation, move_closure
from techapi.closures.models import (
    IN_FLIGHT,
    Cancellation,
    CancellationState,
    Closure,
    ClosureState,
    ClosureStep,
)
from techapi.closures.tasks import CANCEL_JOB, CLOSE_JOB
from techapi.context import Deps
from techapi.db import transaction
from techapi.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from techapi.evidence.access import job_to_act_on
from techapi.evidence.summary import evidence_of
from techapi.jobs import readiness
from techapi.jobs import services as jobs
from techapi.jobs.models import Job
from techapi.queue.outbox import enqueue
from techapi.spapi.reasons import allowed_cancellation_codes

R = TypeVar("R", Closure, Cancellation)


@dataclass(frozen=True)
class History:
    service_job_id: str
    events: list[AuditEvent]


def _actor(user: User) -> Actor:
    return Actor.user(user.username, user.id)


# Steps ----------------------------------------------------------------------------


def request_closure(session: Session, job: Job, actor: Actor, now: datetime, require_approval: bool,
                    min_photos: int) -> Closure:
    """The technician asks for closure: refused with what is missing, else pending (or queued)."""
    lock_job(session, job.service_job_id)
    closure = session.get(Closure, job.service_job_id, populate_existing=True)
    if closure is not None and closure.state in IN_FLIGHT:
        return closure  # asking twice is asking once
    if closure is not None and closure.state == ClosureState.COMPLETED:
        raise ConflictError("The job is already closed")
    if closure is not None and closure.state == ClosureState.FAILED:
        raise ConflictError(f"Sending this closure failed ({closure.failure_reason}); a supervisor can retry it")
    _refuse_if_cancelled(session, job.service_job_id)
    if not readiness.closable(job.status):
        raise ConflictError(f"Job is {job.status} and cannot be closed")
    missing = readiness.still_needed(job.status, job.appointment_status, evidence_of(session, job.service_job_id),
                                     min_photos)
    if missing:
        raise ConflictError(f"The job is not ready to close: {', '.join(missing)} missing",
                            errors={"stillNeeded": missing})
    target = ClosureState.PENDING_APPROVAL if require_approval else ClosureState.QUEUED
    if closure is None:  # the first request: a new closure, not a move
        closure = Closure(service_job_id=job.service_job_id, state=target, requested_by=actor.user_id,
                          requested_at=now, step=ClosureStep.NONE, updated_at=now)
        session.add(closure)
        record(session, job.service_job_id, "closure.requested", now, actor)
    else:  # asked again after a rejection
        move_closure(session, closure, target, now, actor, "closure.requested")
        closure.requested_by, closure.requested_at = actor.user_id, now
        closure.decided_by = closure.decided_at = closure.rejection_reason = None
    if target == ClosureState.QUEUED:
        enqueue(session, CLOSE_JOB, closure.service_job_id, now)
        record(session, job.service_job_id, "closure.queued", now, Actor("system", actor.source),
               details={"reason": "approval not required"})
    return closure


def _refuse_if_cancelled(session: Session, service_job_id: str) -> None:
    """A job being cancelled, or cancelled, is not closed (a failed cancellation is over)."""
    cancellation = session.get(Cancellation, service_job_id, populate_existing=True)
    if cancellation is None or cancellation.state == CancellationState.FAILED:
        return
    if cancellation.state == CancellationState.COMPLETED:
        raise ConflictError("The job has been cancelled and cannot be closed")
    raise ConflictError(f"A cancellation ({cancellation.reason_code}) is queued for this job; it cannot be "
                        "closed unless sending that cancellation fails")


# Entry points ---------------------------------------------------------------------


def ask_for_closure(deps: Deps, session: Session, user: User, job_id: str) -> Closure:
    job = job_to_act_on(session, user, job_id)
    settings = deps.settings
    with transaction(session):
        return request_closure(session, job, _actor(user), deps.clock.now(), settings.require_approval,
                               settings.min_photos)


def _asked_for(session: Session, user: User, job_id: str, model: type[R], what: str) -> R:
    """The job's closure or cancellation, for a caller who may see the job; else 404."""
    job = jobs.job_for(session, user, job_id)
    found = session.get(model, job.service_job_id)
    if found is None:
        raise NotFoundError(f"No {what} has been asked for on this job")
    return found


def closure_of(session: Session, user: User, job_id: str) -> Closure:
    return _asked_for(session, user, job_id, Closure, "closure")


def _decidable(session: Session, user: User, job_id: str) -> Closure:
    """A closure a supervisor of the job's store may decide on (404 outside their stores)."""
    job = jobs.job_for(session, user, job_id)
    if user.role != Role.SUPERVISOR:
        raise ForbiddenError("Only a supervisor of the job's store decides on closures")
    lock_job(session, job.service_job_id)
    closure = session.get(Closure, job.service_job_id, populate_existing=True)
    if closure is None:
        raise ConflictError("No closure has been asked for on this job")
    return closure


def _decide(deps: Deps, session: Session, user: User, job_id: str, *, only_from: ClosureState,
            to: ClosureState, action: str, verb: str, reason: str | None = None) -> Closure:
    """A supervisor's move of a closure. The same move twice is one move; from any
    state but `only_from`, a 409 that says so."""
    now = deps.clock.now()
    with transaction(session):
        closure = _decidable(session, user, job_id)
        already = closure.state in SENT if to == ClosureState.QUEUED else \
            (closure.state == to and closure.rejection_reason == reason)
        if already:
            return closure
        if closure.state != only_from:
            adjective = "pending" if only_from == ClosureState.PENDING_APPROVAL else only_from.lower()
            raise ConflictError(f"Closure is {closure.state}; only a {adjective} closure can be {verb}")
        if to == ClosureState.QUEUED:
            _refuse_if_cancelled(session, closure.service_job_id)
        move_closure(session, closure, to, now, _actor(user), action,
                     details={"reason": reason} if reason is not None else None)
        if only_from == ClosureState.PENDING_APPROVAL:
            closure.decided_by, closure.decided_at, closure.rejection_reason = user.id, now, reason
        if to == ClosureState.QUEUED:
            enqueue(session, CLOSE_JOB, closure.service_job_id, now)
        return closure


# Approving or retrying a closure already on its way changes nothing.
SENT = frozenset({ClosureState.QUEUED, ClosureState.COMPLETED})


def approve(deps: Deps, session: Session, user: User, job_id: str) -> Closure:
    return _decide(deps, session, user, job_id, only_from=ClosureState.PENDING_APPROVAL, to=ClosureState.QUEUED,
                   action="closure.approved", verb="approved")


def reject(deps: Deps, session: Session, user: User, job_id: str, reason: str) -> Closure:
    return _decide(deps, session, user, job_id, only_from=ClosureState.PENDING_APPROVAL, to=ClosureState.REJECTED,
                   action="closure.rejected", verb="rejected", reason=reason)


def retry(deps: Deps, session: Session, user: User, job_id: str) -> Closure:
    return _decide(deps, session, user, job_id, only_from=ClosureState.FAILED, to=ClosureState.QUEUED,
                   action="closure.retried", verb="retried")


def history(session: Session, user: User, job_id: str) -> History:
    job = jobs.job_for(session, user, job_id)
    return History(job.service_job_id, events_of(session, job.service_job_id))


# Cancellation ---------------------------------------------------------------------


def cancellation_of(session: Session, user: User, job_id: str) -> Cancellation:
    return _asked_for(session, user, job_id, Cancellation, "cancellation")


def request_cancellation(deps: Deps, session: Session, user: User, job_id: str, reason_code: str) -> Cancellation:
    job = jobs.job_for(session, user, job_id)
    if user.role not in (Role.TECHNICIAN, Role.SUPERVISOR):
        raise ForbiddenError("Only the technician or a supervisor of the store cancels a job")
    now = deps.clock.now()
    with transaction(session):
        lock_job(session, job.service_job_id)
        existing = session.get(Cancellation, job.service_job_id, populate_existing=True)
        if existing is not None and existing.state != CancellationState.FAILED:
            if existing.reason_code == reason_code:
                return existing
            raise ConflictError(f"A cancellation with reason {existing.reason_code} is already {existing.state}")
        if not readiness.closable(job.status):
            raise ConflictError(f"Job is {job.status} and cannot be cancelled")
        closure = session.get(Closure, job.service_job_id, populate_existing=True)
        if closure is not None and closure.state == ClosureState.PENDING_APPROVAL:
            raise ConflictError("A closure is waiting for approval; reject it before cancelling the job")
        if closure is not None and closure.state == ClosureState.QUEUED:
            raise ConflictError("A closure is queued to be sent; the job cannot be cancelled unless sending it fails")
        if closure is not None and closure.state == ClosureState.COMPLETED:
            raise ConflictError("The job is already closed")
        allowed = allowed_cancellation_codes(job.marketplace_id or "")
        if reason_code not in allowed:
            raise ValidationError(
                f"Reason code {reason_code} is not valid in this marketplace; "
                f"use one of {', '.join(allowed) or 'none'}",
                errors={"json": {"reasonCode": [f"one of {', '.join(allowed)}"]}})
        details = {"reasonCode": reason_code}
        if existing is None:  # the first request: a new cancellation, not a move
            existing = Cancellation(service_job_id=job.service_job_id, state=CancellationState.QUEUED,
                                    attempts=0, updated_at=now)
            session.add(existing)
            record(session, job.service_job_id, "cancellation.requested", now, _actor(user), details=details)
        else:  # asked again after a failure
            move_cancellation(session, existing, CancellationState.QUEUED, now, _actor(user),
                              action="cancellation.requested", details=details)
        existing.reason_code, existing.requested_by, existing.requested_at = reason_code, user.id, now
        enqueue(session, CANCEL_JOB, job.service_job_id, now)
        return existing
