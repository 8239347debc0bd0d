"""Technician performance over a range of days, from techapi's own records.

Five queries whatever the number of technicians or jobs, each reading only the
range's rows (the audit trail by action and time), aggregated here:
1. assignments: the jobs whose current appointment starts in the range, with each
   named technician and the job's recorded start and finish;
2. reschedules: "appointment.rescheduled" audit entries made in the range;
3. no-show cancellations requested in the range (not FAILED ones);
4. ACTIVE time off (BREAK, VACATION, TRAINING, TRAVEL) overlapping the range;
5. the technicians of the stores, so one with nothing to show still has a row.

A reschedule or cancellation counts for the technician who made it (a technician
at the door), otherwise for the technicians named on the job now; a reschedule by a
supervisor counts for the technicians its audit entry names (those on the appointment
SP-API dropped them from) when it names them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, aliased

from techapi.audit.models import AuditEvent
from techapi.auth.models import Role, User, UserStore
from techapi.capacity.models import Reservation, ReservationKind, ReservationStatus
from techapi.clock import as_utc
from techapi.closures.models import Cancellation, CancellationState
from techapi.evidence.models import TimeKind, TimeRecord
from techapi.jobs.models import Job, JobTechnician
from techapi.reports import figures as f
from techapi.reports.scope import Scope

RESCHEDULED = "appointment.rescheduled"
TIME_OFF_KINDS = tuple(k.value for k in ReservationKind)
UNKNOWN_REASON = "UNKNOWN"  # an entry without a reason code still counts


@dataclass(frozen=True)
class TechnicianReport:
    scope: Scope
    grace_minutes: int
    technicians: list[f.TechnicianFigures]

    no_show_reschedule_codes = sorted(f.NO_SHOW_RESCHEDULES)
    no_show_cancellation_codes = sorted(f.NO_SHOW_CANCELLATIONS)


def technician_report(session: Session, scope: Scope, grace_minutes: int) -> TechnicianReport:
    rows: dict[str, f.TechnicianFigures] = {}

    def row(technician_id: str, name: str | None) -> f.TechnicianFigures:
        found = rows.setdefault(technician_id, f.TechnicianFigures(technician_id))
        found.name = found.name or name
        return found

    grace = timedelta(minutes=grace_minutes)
    for tech_id, name, window_start, window_end, start, finish in session.execute(_assignments(scope)):
        figures = row(tech_id, name)
        window_start = as_utc(window_start)
        window_end = as_utc(window_end) if window_end else window_start
        start, finish = (as_utc(start) if start else None), (as_utc(finish) if finish else None)
        figures.jobs_assigned += 1
        figures.started_on_time += f.started_on_time(start, window_start, window_end, grace)
        figures.completed_within_window += f.completed_within_window(finish, window_start, window_end)
        minutes = f.on_site_minutes(start, finish)
        if minutes is not None:
            figures.on_site.append(minutes)

    for (_, details), technicians, by_technician in _events(session.execute(_reschedules(scope))):
        details = details if isinstance(details, dict) else {}
        code = details.get("reasonCode")
        before = details.get("technicianIds")  # who was on the appointment SP-API dropped them from
        if not by_technician and isinstance(before, list) and before:
            technicians = [(str(t), rows[t].name if t in rows else None) for t in before]
        for tech_id, name in technicians:
            row(tech_id, name).add_reschedule(code if isinstance(code, str) and code else UNKNOWN_REASON)

    for _, technicians, _ in _events(session.execute(_no_show_cancellations(scope))):
        for tech_id, name in technicians:
            row(tech_id, name).no_shows += 1

    for tech_id, start, end, status, cancelled_at in session.execute(_time_off(scope)):
        if status == ReservationStatus.CANCELLED and cancelled_at is not None:
            end = min(as_utc(end), as_utc(cancelled_at))
        row(tech_id, None).time_off_minutes += f.clipped_minutes(as_utc(start), as_utc(end), scope.lo, scope.hi)

    for tech_id, username in session.execute(_technicians(scope)):
        row(tech_id, username)

    return TechnicianReport(scope, grace_minutes, [rows[k] for k in sorted(rows)])


def _events(result: Iterable[Any]) -> list[tuple[tuple[Any, Any], list[tuple[str, str | None]], bool]]:
    """Rows (key, payload, actor role, actor technician, actor name, job technician, its name)
    grouped by event: its technicians are the actor if a technician, else the job's;
    and whether a technician made it."""
    events: dict[Any, tuple[tuple[Any, Any], dict[str, str | None], tuple[str, str] | None]] = {}
    for key, payload, role, actor_tech, actor_name, job_tech, job_tech_name in result:
        _, named, actor = events.setdefault(
            key, ((key, payload), {}, (actor_tech, actor_name) if role == Role.TECHNICIAN and actor_tech else None))
        if job_tech is not None:
            named[job_tech] = job_tech_name
    return [(head, [actor] if actor else sorted(named.items()), actor is not None)
            for head, named, actor in events.values()]


def _in_stores(query: Select, column: Any, scope: Scope) -> Select:
    return query if scope.store_ids is None else query.where(column.in_(scope.store_ids))


def _assignments(scope: Scope) -> Select:
    start, finish = aliased(TimeRecord), aliased(TimeRecord)
    query = (select(JobTechnician.technician_id, JobTechnician.name, Job.appointment_start, Job.appointment_end,
                    start.at, finish.at)
             .join(Job, Job.service_job_id == JobTechnician.service_job_id)
             .outerjoin(start, and_(start.service_job_id == Job.service_job_id, start.kind == TimeKind.START))
             .outerjoin(finish, and_(finish.service_job_id == Job.service_job_id, finish.kind == TimeKind.FINISH))
             .where(Job.appointment_start >= scope.lo, Job.appointment_start < scope.hi))
    return _in_stores(query, Job.store_id, scope)


def _reschedules(scope: Scope) -> Select:
    actor = aliased(User)
    query = (select(AuditEvent.id, AuditEvent.details, actor.role, actor.technician_id, actor.username,
                    JobTechnician.technician_id, JobTechnician.name)
             .join(Job, Job.service_job_id == AuditEvent.service_job_id)
             .outerjoin(actor, actor.id == AuditEvent.actor_user_id)
             .outerjoin(JobTechnician, JobTechnician.service_job_id == AuditEvent.service_job_id)
             .where(AuditEvent.action == RESCHEDULED, AuditEvent.at >= scope.lo, AuditEvent.at < scope.hi))
    return _in_stores(query, Job.store_id, scope)


def _no_show_cancellations(scope: Scope) -> Select:
    requester = aliased(User)
    query = (select(Cancellation.service_job_id, Cancellation.reason_code, requester.role,
                    requester.technician_id, requester.username, JobTechnician.technician_id, JobTechnician.name)
             .join(Job, Job.service_job_id == Cancellation.service_job_id)
             .outerjoin(requester, requester.id == Cancellation.requested_by)
             .outerjoin(JobTechnician, JobTechnician.service_job_id == Cancellation.service_job_id)
             .where(Cancellation.reason_code.in_(sorted(f.NO_SHOW_CANCELLATIONS)),
                    Cancellation.state != CancellationState.FAILED,
                    Cancellation.requested_at >= scope.lo, Cancellation.requested_at < scope.hi))
    return _in_stores(query, Job.store_id, scope)


def _time_off(scope: Scope) -> Select:
    # Time off cancelled once it had begun was taken until it was cancelled.
    taken = or_(Reservation.status == ReservationStatus.ACTIVE,
                and_(Reservation.status == ReservationStatus.CANCELLED, Reservation.cancelled_at > Reservation.start))
    query = (select(Reservation.technician_id, Reservation.start, Reservation.end, Reservation.status,
                    Reservation.cancelled_at)
             .where(Reservation.technician_id.is_not(None), taken, Reservation.kind.in_(TIME_OFF_KINDS),
                    Reservation.start < scope.hi, Reservation.end > scope.lo))
    return _in_stores(query, Reservation.store_id, scope)


def _technicians(scope: Scope) -> Select:
    query = select(User.technician_id, User.username).where(
        User.role == Role.TECHNICIAN, User.technician_id.is_not(None), User.active.is_(True))
    if scope.store_ids is not None:
        query = query.where(User.id.in_(select(UserStore.user_id).where(UserStore.store_id.in_(scope.store_ids))))
    return query
