"""Sending an assignment to SP-API (a worker task): assignAppointmentResources,
paced by the client's rate limiter at its usage plan (1 request/s, burst 2).

What is sent is the request as it stands when the task runs, so a request
replaced while queued is never sent. One replaced while its call is in flight
is sent again; it settles only as the version it sent. Sending the same
technicians twice is harmless: SP-API replaces the appointment's resources.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from techapi.assignment.models import ASSIGNMENT, Assignment, AssignmentStatus
from techapi.audit.trail import WORKER, record
from techapi.closures.lifecycle import lock_job
from techapi.context import Deps
from techapi.jobs.models import Job, JobTechnician
from techapi.queue.kinds import PermanentFailure, RetryLater, TaskKind
from techapi.spapi.errors import SpApiError, SpApiServerError, SpApiThrottled, SpApiTransportError
from techapi.spapi.scheduling_types import SpApiWarning

TRANSIENT = (SpApiServerError, SpApiThrottled, SpApiTransportError)
# A request replaced while being sent is sent again in the same run, this often at most.
ROUNDS = 3


def _apply(session: Session, assignment: Assignment) -> None:
    """The job's technicians as SP-API now has them, at once, so the new
    technician's job list shows the job before the next sync. A job rescheduled
    meanwhile is left to the sync: these technicians went to the old appointment."""
    job = session.get(Job, assignment.service_job_id)
    if job is None or job.appointment_id != assignment.appointment_id:
        return
    ids = list(assignment.technician_ids)
    names = dict(session.execute(select(JobTechnician.technician_id, JobTechnician.name).where(
        JobTechnician.technician_id.in_(ids), JobTechnician.name.is_not(None)).distinct()).all())
    current = {t.technician_id: t for t in job.technicians}
    for tech_id in set(current) - set(ids):
        job.technicians.remove(current[tech_id])
    for tech_id in ids:
        if tech_id not in current:
            job.technicians.append(JobTechnician(technician_id=tech_id, name=names.get(tech_id)))


def _settle(deps: Deps, assignment_id: int, version: int, status: AssignmentStatus, *,
            error: str | None = None, warnings: tuple[SpApiWarning, ...] = ()) -> bool:
    """Record how sending `version` ended; False when the request was replaced
    meanwhile (the newer version is still to be sent)."""
    now = deps.clock.now()
    with deps.db.transaction() as session:
        job_id = session.scalar(select(Assignment.service_job_id).where(Assignment.id == assignment_id))
        if job_id is None:
            return True
        lock_job(session, job_id)  # the job first, then the request: the order request_assignment takes
        assignment = session.get(Assignment, assignment_id, with_for_update=True, populate_existing=True)
        if assignment is None or assignment.status != AssignmentStatus.PENDING:
            return True  # settled already (given up, or by a run whose lease we took over)
        if assignment.version != version:
            return False
        assignment.status = ASSIGNMENT.check(assignment.status, status)
        assignment.done_at, assignment.error = now, error
        ids = list(assignment.technician_ids)
        if status == AssignmentStatus.DONE:
            _apply(session, assignment)
            details: dict = {"technicianIds": ids, "appointmentId": assignment.appointment_id}
            if warnings:
                details["warnings"] = [{"code": w.code, "message": w.message} for w in warnings]
            record(session, job_id, "technicians.assigned", now, WORKER, details=details)
        else:
            record(session, job_id, "technicians.assignment_failed", now, WORKER,
                   details={"technicianIds": ids, "reason": error})
        return True


def assign_technicians(deps: Deps, ref: str, attempt: int) -> None:
    assignment_id = int(ref)
    for _ in range(ROUNDS):
        with deps.db.session() as session:
            assignment = session.get(Assignment, assignment_id)
            if assignment is None or assignment.status != AssignmentStatus.PENDING:
                return  # settled meanwhile
            version, job_id = assignment.version, assignment.service_job_id
            appointment_id, ids = assignment.appointment_id, list(assignment.technician_ids)
            job = session.get(Job, job_id)
            current = job.appointment_id if job is not None else None
        if current != appointment_id:  # rescheduled since it was asked for: SP-API would refuse it
            message = "The job was rescheduled after this assignment was asked for; assign its technicians again"
            if _settle(deps, assignment_id, version, AssignmentStatus.FAILED, error=message):
                raise PermanentFailure(message)
            continue
        try:
            warnings = deps.spapi.assign_appointment_resources(job_id, appointment_id, ids)
        except TRANSIENT as exc:
            raise RetryLater(str(exc)) from None
        except SpApiError as exc:
            message = exc.message or str(exc)
            if _settle(deps, assignment_id, version, AssignmentStatus.FAILED, error=message[:1000]):
                raise PermanentFailure(f"SP-API refused: {message}") from None
            continue
        if _settle(deps, assignment_id, version, AssignmentStatus.DONE, warnings=warnings):
            return
    raise RetryLater(f"assignment {assignment_id} was replaced while being sent, {ROUNDS} times")


def assignment_failed(deps: Deps, ref: str, reason: str) -> None:
    """The task gave up: a request still PENDING is FAILED with the reason (safe twice)."""
    now = deps.clock.now()
    with deps.db.transaction() as session:
        assignment = session.get(Assignment, int(ref), with_for_update=True)
        if assignment is None or assignment.status != AssignmentStatus.PENDING:
            return
        assignment.status = ASSIGNMENT.check(assignment.status, AssignmentStatus.FAILED)
        assignment.done_at, assignment.error = now, reason[:1000]
        record(session, assignment.service_job_id, "technicians.assignment_failed", now, WORKER,
               details={"technicianIds": list(assignment.technician_ids), "reason": reason})


# Priority 1: a dispatcher waits for these, so they go before uploads (2) and
# after closures (0), which run on other usage plans side by side anyway.
ASSIGN_TECHNICIANS = TaskKind("assign_technicians", priority=1, run=assign_technicians, give_up=assignment_failed)
KINDS = (ASSIGN_TECHNICIANS,)
