"""The day board's read model: a store's jobs of one day, one row per technician
(their appointments in time order) and a lane of the jobs that need technicians.

Built on the API's own reads: the job list's rows and "still needed"
(reads.jobs), its `needs=assignment` query, the store's roster (assignment
services), the latest assignment request. Ten queries whatever the day holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from techapi.assignment.models import Assignment
from techapi.assignment.services import store_roster
from techapi.auth.models import User
from techapi.clock import as_utc
from techapi.console.choices import technician_names
from techapi.evidence.models import TimeKind, TimeRecord
from techapi.jobs.models import Job, JobTechnician
from techapi.reads.jobs import JobSummary, list_query, listed_rows, summarise
from techapi.reports.figures import started_on_time
from techapi.spapi.types import AppointmentStatus, JobStatus

OVER = (JobStatus.COMPLETED, JobStatus.CANCELLED)


def late_start(job_status: str, appointment_status: str | None, window: tuple[datetime, datetime] | None,
               started_at: datetime | None, now: datetime, grace: timedelta) -> bool:
    """Late as the performance report counts it: a start after the window's end
    (give or take the grace), or none recorded when that moment has passed."""
    if window is None:
        return False
    if started_at is not None:
        return started_at > window[0] and not started_on_time(started_at, window[0], window[1], grace)
    return (appointment_status == AppointmentStatus.ACTIVE and job_status not in OVER
            and now > window[1] + grace)


@dataclass(frozen=True)
class BoardJob:
    summary: JobSummary
    technicians: list[tuple[str, str]]  # (technician ID, name) on the current appointment
    assignment: Assignment | None  # the latest request for the current appointment
    needs_assignment: bool
    late: bool

    @property
    def job_id(self) -> str:
        return self.summary.job.service_job_id

    @property
    def window(self) -> tuple[datetime, datetime] | None:
        return window_of(self.summary.job)

    @property
    def active(self) -> bool:
        return self.summary.job.appointment_status == AppointmentStatus.ACTIVE


@dataclass(frozen=True)
class Board:
    store_id: str
    day: date
    timezone: str
    rows: list[tuple[str, str, list[BoardJob]]]  # (technician ID, name, their jobs in time order)
    lane: list[BoardJob]  # jobs that need technicians, or have none yet
    roster: list[tuple[str, str]]  # who can be assigned: (technician ID, name), by name

    @property
    def names(self) -> dict[str, str]:
        return dict(self.roster) | {t: n for t, n, _ in self.rows}

    @property
    def jobs(self) -> dict[str, BoardJob]:
        found = {j.job_id: j for _, _, row in self.rows for j in row}
        return found | {j.job_id: j for j in self.lane}


def window_of(job: object) -> tuple[datetime, datetime] | None:
    start = getattr(job, "appointment_start", None)
    if start is None:
        return None
    return as_utc(start), as_utc(start) + timedelta(minutes=getattr(job, "duration_minutes", None) or 0)


def build(session: Session, user: User, store_id: str, day: date, tz: str, now: datetime, grace: timedelta,
          min_photos: int) -> Board:
    """The board of `store_id` (already checked against the caller) for `day`."""
    in_store = Job.store_id == store_id
    query = list_query(user, day, tz, None).where(in_store).order_by(Job.appointment_start, Job.service_job_id)
    summaries = summarise(listed_rows(session, query), min_photos)
    ids = [s.job.service_job_id for s in summaries]
    needing = set(session.scalars(list_query(user, day, tz, "assignment").where(in_store)
                                  .with_only_columns(Job.service_job_id)))
    on_job: dict[str, list[str]] = {}
    for job_id, technician_id in session.execute(select(JobTechnician.service_job_id, JobTechnician.technician_id)
                                                 .where(JobTechnician.service_job_id.in_(ids))):
        on_job.setdefault(job_id, []).append(technician_id)
    requests: dict[str, Assignment] = {}
    for a in session.scalars(select(Assignment).where(Assignment.service_job_id.in_(ids)).order_by(Assignment.id)):
        requests[a.service_job_id] = a
    starts = dict(session.execute(select(TimeRecord.service_job_id, TimeRecord.at).where(
        TimeRecord.service_job_id.in_(ids), TimeRecord.kind == TimeKind.START)).all())

    roster = store_roster(session, store_id)
    names = technician_names(session, roster | {t for ts in on_job.values() for t in ts})
    rows: dict[str, list[BoardJob]] = {t: [] for t in names}
    lane = []
    for s in summaries:
        job_id, job = s.job.service_job_id, s.job
        request = requests.get(job_id)
        started = starts.get(job_id)
        entry = BoardJob(
            s, sorted(((t, names[t]) for t in on_job.get(job_id, [])), key=lambda x: x[1]),
            request if request is not None and request.appointment_id == job.appointment_id else None,
            job_id in needing,
            late_start(job.status, job.appointment_status, window_of(job), as_utc(started) if started else None,
                       now, grace))
        for technician_id in on_job.get(job_id, []):
            rows[technician_id].append(entry)
        if entry.needs_assignment or not entry.technicians:
            lane.append(entry)
    ordered = sorted(rows.items(), key=lambda item: (names[item[0]], item[0]))
    return Board(store_id, day, tz, [(t, names[t], row) for t, row in ordered], lane,
                 sorted(((t, names[t]) for t in roster), key=lambda x: (x[1], x[0])))
