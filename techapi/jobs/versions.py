"""Per-job version numbers: every flush that changes anything a job's
representation shows (the job row, its technicians, times, documents, closure,
cancellation, assignments) bumps `jobs.version`, so conditional GETs can
revalidate from the versions alone, without loading or serialising the jobs.

One session hook (techapi.jobs.changes.track) instead of a bump in every writer: sync, evidence, closures,
assignment, appointments, webhooks, offline replay and worker tasks all write
through the ORM, so none can forget it."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, inspect, select, update
from sqlalchemy.orm import Session

from techapi.auth.models import User
from techapi.errors import NotFoundError
from techapi.jobs.models import Job
from techapi.jobs.services import visible

# Job columns no response shows: a sync that only refreshes these changes nothing.
UNSHOWN = frozenset({"synced_at", "version"})


def _job_changed(job: Job) -> bool:
    state = inspect(job)
    return any(attr.history.has_changes() for attr in state.attrs if attr.key not in UNSHOWN)


def changed_jobs(session: Session, tracked: tuple[type, ...]) -> set[str]:
    """IDs of the existing jobs this flush changes (new jobs start at version 1)."""
    ids: set[str] = set()
    for obj in session.dirty:
        if isinstance(obj, Job):
            if _job_changed(obj):
                ids.add(obj.service_job_id)
        elif isinstance(obj, tracked) and session.is_modified(obj):
            ids.add(obj.service_job_id)
    for obj in (*session.new, *session.deleted):
        if isinstance(obj, tracked):
            ids.add(obj.service_job_id)
    return ids


def bump(session: Session, job_ids: Iterable[str]) -> None:
    """Give these jobs a new version (in the caller's transaction)."""
    # A row appended to a job's collection has no ID before the flush; its job is dirty itself.
    ids = sorted({i for i in job_ids if i is not None})  # a fixed order: writers lock rows alike
    if ids:
        session.connection().execute(
            update(Job.__table__).where(Job.__table__.c.service_job_id.in_(ids))
            .values(version=Job.__table__.c.version + 1))


def caller(user: User, default_timezone: str) -> tuple[object, ...]:
    """What every answer depends on about its caller: no two users share an ETag."""
    return (user.id, user.role, user.technician_id, tuple(sorted(user.store_ids or ())),
            user.timezone or default_timezone)


def versions_of(session: Session, query: Select) -> list[tuple[str, int]]:
    """(job ID, version) of the jobs `query` (over Job, already scoped) selects:
    two small columns, no ORM loading."""
    return [(row[0], row[1]) for row in session.connection().execute(
        query.with_only_columns(Job.service_job_id, Job.version).order_by(None).order_by(Job.service_job_id))]


def version_of(session: Session, user: User, job_id: str) -> int:
    """The version of one job the caller may see; 404 otherwise, as for the job itself."""
    found = session.execute(visible(select(Job.service_job_id, Job.version)
                                    .where(Job.service_job_id == job_id), user)).first()
    if found is None:
        raise NotFoundError("Job not found")
    return found[1]
