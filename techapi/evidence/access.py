"""Who may act on a job's evidence, and when."""

from __future__ import annotations

from sqlalchemy.orm import Session

from techapi.auth.models import Role, User
from techapi.context import EvidenceLock
from techapi.errors import ConflictError, ForbiddenError
from techapi.jobs import services as jobs
from techapi.jobs.models import Job
from techapi.jobs.readiness import open_for_work


def job_to_act_on(session: Session, user: User, service_job_id: str) -> Job:
    """The job, for its assigned technician: 404 if not visible, 403 for other roles."""
    job = jobs.job_for(session, user, service_job_id)
    if user.role != Role.TECHNICIAN:
        raise ForbiddenError("Only the assigned technician records times and documents")
    return job


def require_open(session: Session, job: Job, locked: EvidenceLock) -> None:
    """Evidence can change only while SP-API still expects service on the job and
    nothing above (a closure waiting for approval, queued or done) has frozen it."""
    if not open_for_work(job.status, job.appointment_status):
        raise ConflictError(f"Job is {job.status} and can no longer change")
    reason = locked(session, job.service_job_id)
    if reason is not None:
        raise ConflictError(reason)
