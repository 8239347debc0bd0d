"""Who may act on a job's evidence, and when."""

from __future__ import annotations

from sqlalchemy.orm import Session

from techapi.auth.models import Role, User
from techapi.closures.models import EVIDENCE_LOCKED, Closure
from techapi.errors import ConflictError, ForbiddenError
from techapi.jobs import services as jobs
from techapi.jobs.models import Job
from techapi.jobs.readiness import CLOSABLE_STATUS


def job_to_act_on(session: Session, user: User, service_job_id: str) -> Job:
    """The job, for its assigned technician: 404 if not visible, 403 for other roles."""
    job = jobs.job_for(session, user, service_job_id)
    if user.role != Role.TECHNICIAN:
        raise ForbiddenError("Only the assigned technician records times and documents")
    return job


def require_open(session: Session, job: Job) -> None:
    """Evidence can change only while SP-API still expects service on the job and
    no closure is waiting for approval, queued or done."""
    if job.status != CLOSABLE_STATUS or job.appointment_status != "ACTIVE":
        raise ConflictError(f"Job is {job.status} and can no longer change")
    closure = session.get(Closure, job.service_job_id)
    if closure is not None and closure.state in EVIDENCE_LOCKED:
        raise ConflictError(f"Closure is {closure.state}; the evidence can no longer change")
