"""The closure and cancellation state machines' only writers, and what a closure
freezes. Every move is checked against its table, stamped and audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from techapi.audit.trail import Actor, record
from techapi.closures.models import (
    CANCELLATION,
    CLOSURE,
    EVIDENCE_LOCKED,
    Cancellation,
    CancellationState,
    Closure,
    ClosureState,
    ClosureStep,
)
from techapi.jobs.models import Job


def lock_job(session: Session, service_job_id: str) -> None:
    """Queue the writers of one job's closure and cancellation behind each other, so
    that of two at once the second sees what the first wrote: a row lock on the job
    on PostgreSQL (the closure row may not exist yet); SQLite's BEGIN IMMEDIATE
    already serialises every transaction. Read the closure and cancellation after
    this, with `populate_existing`, never before."""
    session.execute(select(Job.service_job_id).where(Job.service_job_id == service_job_id).with_for_update())


def move_closure(session: Session, closure: Closure, new: ClosureState, now: datetime, actor: Actor,
                 action: str, *, reason: str | None = None, details: dict[str, Any] | None = None) -> None:
    """Check the move, stamp it, keep the failure reason (a queued closure starts
    clean) and append `action` to the job's audit trail."""
    closure.state = CLOSURE.check(closure.state, new)
    closure.updated_at = now
    if new == ClosureState.QUEUED:
        closure.failure_reason = None
    elif new == ClosureState.FAILED:
        closure.failure_reason = reason
    elif new == ClosureState.COMPLETED:
        closure.completed_at = now
    record(session, closure.service_job_id, action, now, actor, details=details)


def advance_step(session: Session, closure: Closure, step: ClosureStep, now: datetime, actor: Actor,
                 details: dict[str, Any]) -> None:
    """Note how far sending got; repeating a step notes nothing."""
    if closure.step != step:
        closure.step, closure.updated_at = step, now
        record(session, closure.service_job_id, f"closure.{step.lower()}", now, actor, details=details)


def move_cancellation(session: Session, cancellation: Cancellation, new: CancellationState, now: datetime,
                      actor: Actor, *, action: str | None = None, reason: str | None = None,
                      details: dict[str, Any] | None = None) -> None:
    """Check the move, stamp it, keep the failure reason and audit it (by default
    as `cancellation.<new state>`)."""
    cancellation.state = CANCELLATION.check(cancellation.state, new)
    cancellation.updated_at = now
    cancellation.failure_reason = reason
    record(session, cancellation.service_job_id, action or f"cancellation.{new.lower()}", now, actor,
           details=details if details is not None else ({"reason": reason} if reason else {}))


def evidence_lock(session: Session, service_job_id: str) -> str | None:
    """Why the job's evidence can no longer change, or None (see context.EvidenceLock)."""
    closure = session.get(Closure, service_job_id)
    if closure is not None and closure.state in EVIDENCE_LOCKED:
        return f"Closure is {closure.state}; the evidence can no longer change"
    return None
