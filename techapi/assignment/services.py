"""Asking for a job's technicians to be assigned, and reading where that stands.

The request is checked here, before anything is queued (technicians techapi knows
for the job's store, an active appointment), then written with its task and an
audit event in one transaction (the outbox). A request still PENDING is replaced,
never sent beside the new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from techapi.assignment.models import ASSIGNMENT, Assignment, AssignmentStatus
from techapi.assignment.queries import latest
from techapi.assignment.tasks import ASSIGN_TECHNICIANS
from techapi.audit.trail import Actor, record
from techapi.auth.models import Role, User, UserStore
from techapi.closures.lifecycle import lock_job
from techapi.context import Deps
from techapi.db import transaction
from techapi.errors import ConflictError, ForbiddenError, ValidationError
from techapi.jobs import services as jobs
from techapi.jobs.models import Job, JobTechnician
from techapi.queue.outbox import enqueue
from techapi.spapi.types import AppointmentStatus


@dataclass(frozen=True)
class TechnicianState:
    """Who is on the job's current appointment, and the latest request to change it."""

    job: Job
    technicians: list[JobTechnician]
    assignment: Assignment | None


def store_roster(session: Session, store_id: str | None) -> set[str]:
    """The technicians techapi knows for a store: its technician accounts, and
    whoever SP-API has named on the store's jobs; deactivated accounts left out.
    Empty when techapi knows none (SP-API alone can then judge an ID)."""
    if store_id is None:
        return set()
    accounts = select(User.technician_id).join(UserStore, UserStore.user_id == User.id).where(
        UserStore.store_id == store_id, User.role == Role.TECHNICIAN, User.active.is_(True))
    seen = select(JobTechnician.technician_id).join(Job, Job.service_job_id == JobTechnician.service_job_id) \
        .where(Job.store_id == store_id).distinct()
    inactive = select(User.technician_id).where(User.active.is_(False), User.technician_id.is_not(None))
    return ({t for t in session.scalars(accounts) if t} | set(session.scalars(seen))) - set(session.scalars(inactive))


def _check_technicians(session: Session, job: Job, ids: Sequence[str]) -> None:
    roster = store_roster(session, job.store_id)
    strangers = [t for t in ids if roster and t not in roster]
    if strangers:
        message = f"Not a technician of store {job.store_id}: {', '.join(strangers)}"
        raise ValidationError(message, errors={"json": {"technicianIds": [message]}})


def request_assignment(deps: Deps, session: Session, user: User, job_id: str,
                       technician_ids: Sequence[str]) -> Assignment:
    """Queue the assignment of `technician_ids` to the job's active appointment;
    a request of the job still PENDING is replaced (last write wins)."""
    job = jobs.job_for(session, user, job_id)
    if user.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise ForbiddenError("Only a supervisor of the job's store assigns technicians")
    ids = list(dict.fromkeys(technician_ids))
    now = deps.clock.now()
    actor = Actor.user(user.username, user.id)
    with transaction(session):
        lock_job(session, job.service_job_id)
        session.refresh(job)  # the appointment as it is now, not as read before the lock
        if job.appointment_status != AppointmentStatus.ACTIVE or job.appointment_id is None:
            raise ConflictError(f"The job has no active appointment to assign technicians to "
                                f"(job {job.status}, appointment {job.appointment_status or 'none'})")
        _check_technicians(session, job, ids)
        pending = session.scalar(select(Assignment).where(
            Assignment.service_job_id == job.service_job_id, Assignment.status == AssignmentStatus.PENDING)
            .order_by(Assignment.id.desc()).limit(1).with_for_update()
            .execution_options(populate_existing=True))
        if pending is not None and pending.technician_ids == ids and pending.appointment_id == job.appointment_id:
            return pending  # asking twice is asking once
        if pending is not None:
            pending.status = ASSIGNMENT.check(pending.status, AssignmentStatus.PENDING)
            pending.technician_ids, pending.appointment_id = ids, job.appointment_id
            pending.requested_by, pending.requested_at = user.id, now
            pending.version += 1
            assignment = pending
        else:
            assignment = Assignment(service_job_id=job.service_job_id, appointment_id=job.appointment_id,
                                    technician_ids=ids, status=AssignmentStatus.PENDING, requested_by=user.id,
                                    requested_at=now, version=1)
            session.add(assignment)
            session.flush()  # its id is the task's ref
        enqueue(session, ASSIGN_TECHNICIANS, str(assignment.id), now)
        record(session, job.service_job_id, "technicians.assignment_requested", now, actor,
               details={"technicianIds": ids, "replaced": pending is not None})
        return assignment


def technicians_of(session: Session, user: User, job_id: str) -> TechnicianState:
    """For anyone who may see the job."""
    job = jobs.job_for(session, user, job_id)
    return TechnicianState(job, list(job.technicians), latest(session, job.service_job_id))
