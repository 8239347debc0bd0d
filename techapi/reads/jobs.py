"""The technician's job list and one job's detail: jobs, evidence and closure in
a fixed number of queries, as read models the schemas serialise. The detail is
everything the phone's job screen shows (times, documents, closure, cancellation,
assignment), so the screen takes one request."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Row, Select, bindparam, select
from sqlalchemy.orm import Session, joinedload, selectinload

from techapi.assignment.models import Assignment
from techapi.assignment.queries import latest, needs_assignment
from techapi.auth.models import Role, User
from techapi.clock import Clock, day_bounds, local_today
from techapi.closures.models import Cancellation, Closure
from techapi.config import Settings
from techapi.errors import ForbiddenError
from techapi.evidence.documents import documents_of
from techapi.evidence.models import COUNTED, Document, DocumentKind, TimeKind, TimeRecord
from techapi.evidence.services import WorkTimes
from techapi.evidence.summary import evidence_columns, evidence_in
from techapi.jobs import readiness
from techapi.jobs import services as jobs
from techapi.jobs.address import with_one_line
from techapi.jobs.models import Job, JobTechnician
from techapi.spapi.types import Appointment, parse_appointment

ITEM_KEYS = ("asin", "title", "quantity", "itemStatus", "brandName")


@dataclass(frozen=True)
class Scope:
    title: str | None
    asin: str | None
    quantity: int | None
    required_skills: list[str]


@dataclass(frozen=True)
class JobSummary:
    job: Job | Row  # a list reads only the LISTED columns, a detail the whole Job
    appointment: Appointment | None
    address: dict[str, Any] | None
    scope: Scope
    still_needed: list[str]


@dataclass(frozen=True)
class JobDetail(JobSummary):
    assignment: Assignment | None
    closure: Closure | None
    cancellation: Cancellation | None
    times: WorkTimes
    documents: list[Document]
    technicians: list[JobTechnician]
    appointments: list[Appointment]
    associated_items: list[dict[str, Any]]
    preferred_appointment_times: list[dict[str, Any]]

    @property
    def create_time(self) -> str | None:
        return (self.job.payload or {}).get("createTime")


@dataclass(frozen=True)
class JobList:
    date: date
    timezone: str
    jobs: list[JobSummary]


# What a list entry shows of a job (not the payload, the largest column) and its version (the ETag).
LISTED = (Job.service_job_id, Job.status, Job.appointment_id, Job.appointment_status, Job.appointment_start,
          Job.duration_minutes, Job.customer_name, Job.customer_phone, Job.address, Job.scope, Job.version)


def _current_appointment(job: Job | Row) -> Appointment | None:
    if job.appointment_id is None and job.appointment_start is None:
        return None
    return Appointment(job.appointment_id, job.appointment_status, job.appointment_start, job.duration_minutes)


def scope_of(job: Job | Row) -> Scope:
    raw = job.scope or {}
    return Scope(raw.get("title"), raw.get("asin"), raw.get("quantity"), list(raw.get("requiredSkills") or []))


def _summary_parts(job: Job | Row, evidence: readiness.Evidence, min_photos: int) -> dict[str, Any]:
    return dict(job=job, appointment=_current_appointment(job), address=with_one_line(job.address),
                scope=scope_of(job),
                still_needed=readiness.still_needed(job.status, job.appointment_status, evidence, min_photos))


def list_query(user: User, day: date, tz: str, needs: str | None) -> Select:
    """The rows of the day list, as a statement with the caller's values bound (the
    console's board narrows it further). With `needs="assignment"`: the day's jobs
    whose active appointment has no technician and no assignment on its way, or whose
    latest assignment FAILED (a supervisor's dispatch board)."""
    lo, hi = day_bounds(day, tz)
    return _day_statement(_role_for(user, needs), needs).params(lo=lo, hi=hi, **jobs.viewer(user))


def _role_for(user: User, needs: str | None) -> str:
    if needs == "assignment" and user.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise ForbiddenError("Only supervisors and admins see the jobs that need assigning")
    return user.role


@functools.cache  # one per role and filter: the list is the hottest read, built once
def _day_statement(role: str, needs: str | None) -> Select:
    lo, hi = bindparam("lo"), bindparam("hi")
    query = select(Job).where(Job.appointment_start >= lo, Job.appointment_start < hi)
    if needs == "assignment":
        query = query.where(needs_assignment())
    return jobs.visible_between(query, role, lo, hi)


DAY_ORDER = ("appointment_start", "service_job_id")  # the day list's order, by column name


@functools.cache
def day_rows_statement(role: str, needs: str | None) -> Select:
    """The day list's rows for a caller of `role` (bound: lo, hi and viewer(user))."""
    return (_day_statement(role, needs).with_only_columns(*LISTED, *evidence_columns())
            .order_by(*(Job.__table__.c[k] for k in DAY_ORDER)))


@functools.cache
def day_versions_statement(role: str, needs: str | None) -> Select:
    """(job ID, version) of the same jobs: the list's ETag."""
    return _day_statement(role, needs).with_only_columns(Job.service_job_id, Job.version) \
        .order_by(Job.service_job_id)


def _day_values(user: User, day: date, tz: str) -> dict[str, object]:
    lo, hi = day_bounds(day, tz)
    return {"lo": lo, "hi": hi, **jobs.viewer(user)}


def day_versions(session: Session, user: User, day: date, tz: str, needs: str | None) -> list[tuple[str, int]]:
    """(job ID, version) of the day list's jobs, in ID order: its ETag's query."""
    statement = day_versions_statement(_role_for(user, needs), needs)
    rows = session.connection().execute(statement, _day_values(user, day, tz))
    # Sorted here, not by the database's collation: the same order as versions_in.
    return sorted((row[0], row[1]) for row in rows)


def day_list(session: Session, user: User, day: date | None, clock: Clock, settings: Settings,
             needs: str | None = None) -> JobList:
    """The caller's jobs of `day` (default: today in their time zone), in appointment
    order; with `needs="assignment"`, only those that need technicians."""
    tz = user.timezone or settings.timezone
    day = day or local_today(clock, tz)
    statement = day_rows_statement(_role_for(user, needs), needs)
    rows = list(session.connection().execute(statement, _day_values(user, day, tz)))
    return JobList(day, tz, summarise(rows, settings.min_photos))


def listed_rows(session: Session, query: Select) -> list[Row]:
    """The LISTED columns and the evidence of the jobs `query` (over Job, scoped and
    ordered) selects: one round trip, no ORM entity loaded."""
    # Through the connection: plain rows, without the ORM's per-statement machinery.
    return list(session.connection().execute(query.with_only_columns(*LISTED, *evidence_columns())))


def summarise(rows: list[Row], min_photos: int) -> list[JobSummary]:
    """The list entries of listed_rows, each with what it still needs."""
    return [JobSummary(**_summary_parts(r, evidence_in(r), min_photos)) for r in rows]


def versions_in(answer: JobList) -> list[tuple[str, int]]:
    """(job ID, version) of a list's jobs, in ID order: as versions.versions_of reads them."""
    return sorted((s.job.service_job_id, s.job.version) for s in answer.jobs)


def _evidence(times: dict[str, TimeRecord], documents: list[Document]) -> readiness.Evidence:
    """What evidence_for counts, from the rows the detail loads anyway (two queries fewer)."""
    counted = [d.kind for d in documents if d.status in COUNTED]
    return readiness.Evidence(has_start=TimeKind.START in times, has_end=TimeKind.FINISH in times,
                              poa_documents=counted.count(DocumentKind.POA), photos=counted.count(DocumentKind.PHOTO))


def job_detail(session: Session, user: User, job_id: str, settings: Settings) -> JobDetail:
    """One job with all the phone's job screen shows, in a fixed number of queries
    (one per related table) however many documents or closure events it has."""
    job = jobs.job_for(session, user, job_id)
    raw, job_id = job.payload or {}, job.service_job_id
    times = {t.kind: t for t in session.scalars(select(TimeRecord).where(TimeRecord.service_job_id == job_id))}
    documents = documents_of(session, job_id)
    parts = _summary_parts(job, _evidence(times, documents), settings.min_photos)
    closure = session.scalar(select(Closure).where(Closure.service_job_id == job.service_job_id)
                             # Only the names of who asked and decided are shown: not their stores.
                             .options(joinedload(Closure.requester).lazyload(User.stores),
                                      joinedload(Closure.decider).lazyload(User.stores),
                                      selectinload(Closure.history)))
    return JobDetail(
        **parts,
        assignment=latest(session, job.service_job_id),
        closure=closure,
        cancellation=session.get(Cancellation, job.service_job_id),
        times=WorkTimes(job.service_job_id, times.get(TimeKind.START), times.get(TimeKind.FINISH),
                        parts["still_needed"]),
        documents=documents,
        technicians=list(job.technicians),
        appointments=[parse_appointment(a) for a in raw.get("appointments") or [] if isinstance(a, dict)],
        associated_items=[{k: i[k] for k in ITEM_KEYS if k in i}
                          for i in raw.get("associatedItems") or [] if isinstance(i, dict)],
        preferred_appointment_times=[p for p in raw.get("preferredAppointmentTimes") or [] if isinstance(p, dict)],
    )
