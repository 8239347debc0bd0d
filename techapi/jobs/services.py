"""Which jobs a caller may see: the one rule every read and write goes through."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, bindparam, false, select
from sqlalchemy.orm import Session

from techapi.auth.models import Role, User
from techapi.errors import NotFoundError
from techapi.jobs.models import Job, JobTechnician


def visible_to(query: Select, role: str) -> Select:
    """Restrict a query over Job to a caller of `role`, whose identity is bound at
    execution (viewer(user)): technicians see the jobs whose current appointment
    names them, supervisors their stores' jobs, admins everything. One statement per
    role, so the hot reads build theirs once."""
    if role == Role.TECHNICIAN:
        return query.join(JobTechnician, JobTechnician.service_job_id == Job.service_job_id) \
            .where(JobTechnician.technician_id == bindparam("viewer_technician_id"))
    if role == Role.SUPERVISOR:
        return query.where(Job.store_id.in_(bindparam("viewer_stores", expanding=True)))
    if role == Role.ADMIN:
        return query
    return query.where(false())


def visible_between(query: Select, role: str, lo: Any, hi: Any) -> Select:
    """visible_to for a query already narrowed to the jobs whose appointment starts in
    [lo, hi): a technician's are found through their own rows' copy of the start
    (job_technicians.appointment_start, kept by the database), one index range, rather
    than among the whole day's jobs."""
    query = visible_to(query, role)
    if role == Role.TECHNICIAN:
        query = query.where(JobTechnician.appointment_start >= lo, JobTechnician.appointment_start < hi)
    return query


def viewer(user: User) -> dict[str, object]:
    """The values visible_to's statement is executed with."""
    if user.role == Role.TECHNICIAN:
        return {"viewer_technician_id": user.technician_id}
    if user.role == Role.SUPERVISOR:
        return {"viewer_stores": list(user.store_ids)}
    return {}


def visible(query: Select, user: User) -> Select:
    """visible_to with this caller's values bound into the statement."""
    return visible_to(query, user.role).params(viewer(user))


def job_for(session: Session, user: User, service_job_id: str) -> Job:
    """The job if the caller may see it; otherwise 404, never a hint that it exists."""
    job = session.scalar(visible(select(Job).where(Job.service_job_id == service_job_id), user))
    if job is None:
        raise NotFoundError("Job not found")
    return job
