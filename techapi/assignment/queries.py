"""Reading assignments: a job's latest request, and which jobs still need technicians."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from techapi.assignment.models import Assignment, AssignmentStatus
from techapi.jobs.models import Job, JobTechnician
from techapi.spapi.types import AppointmentStatus


def latest(session: Session, service_job_id: str) -> Assignment | None:
    """The job's most recent assignment request, whatever its state."""
    return session.scalar(select(Assignment).where(Assignment.service_job_id == service_job_id)
                          .order_by(Assignment.id.desc()).limit(1))


def needs_assignment() -> ColumnElement[bool]:
    """A condition on Job: its active appointment has no technician and no request
    for it is on its way (PENDING), or the latest request for it FAILED. A request
    made for an earlier appointment (rescheduled since) does not count."""
    newest = (select(func.max(Assignment.id))
              .where(Assignment.service_job_id == Job.service_job_id,
                     Assignment.appointment_id == Job.appointment_id)
              .correlate(Job).scalar_subquery())
    status = func.coalesce(select(Assignment.status).where(Assignment.id == newest).scalar_subquery(), "")
    nobody = ~exists().where(JobTechnician.service_job_id == Job.service_job_id)
    return and_(Job.appointment_status == AppointmentStatus.ACTIVE,
                or_(and_(nobody, status != AssignmentStatus.PENDING), status == AssignmentStatus.FAILED))
