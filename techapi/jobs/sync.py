"""Pull service jobs from SP-API into the database.

The first sync of a day is a full pull: getServiceJobs with createdAfter (a
look-back) and the day's schedule window. After that, syncs are incremental:
lastUpdatedAfter the previous run (minus an overlap for clock skew), with no
schedule window, so a job rescheduled away from a day is moved, not left
behind. Everything is fetched first and written in one transaction, so a sync
that fails midway writes nothing and the next one starts from the same cursor.
Domains that react to SP-API's word on a job (a closure completed elsewhere)
run as hooks inside that transaction (Deps.sync_hooks, wired by create_app).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session, selectinload

from techapi.clock import day_bounds, local_today
from techapi.context import Deps
from techapi.jobs.models import Job, JobTechnician, SyncCursor, SyncedDay
from techapi.spapi.client import ServiceJobsQuery
from techapi.spapi.types import ServiceJob

log = logging.getLogger(__name__)

CURSOR = "serviceJobs.lastUpdatedAfter"
OVERLAP = timedelta(minutes=5)
SCOPE_KEYS = ("asin", "title", "quantity", "requiredSkills")


@dataclass(frozen=True)
class SyncResult:
    day: date
    full: bool
    fetched: int
    created: int
    updated: int


def job_row_values(job: ServiceJob, now: datetime) -> dict:
    """The flattened columns of a job, from SP-API's representation."""
    appt = job.current_appointment
    address = job.address or {}
    return {
        "service_order_id": job.service_order_id,
        "status": job.status or "UNKNOWN",
        "marketplace_id": job.marketplace_id,
        "store_id": job.store_id,
        "appointment_id": appt.appointment_id if appt else None,
        "appointment_status": appt.status if appt else None,
        "appointment_start": appt.start if appt else None,
        "appointment_end": appt.end if appt else None,
        "duration_minutes": appt.duration_minutes if appt else None,
        "customer_name": (job.buyer.get("name") or address.get("name") or None),
        "customer_phone": (job.buyer.get("phone") or address.get("phone") or None),
        "address": job.address,
        "scope": {k: job.scope[k] for k in SCOPE_KEYS if k in job.scope},
        "payload": job.raw,
        "synced_at": now,
    }


def upsert_jobs(session: Session, jobs: Iterable[ServiceJob], now: datetime) -> tuple[int, int]:
    by_id = {j.service_job_id: j for j in jobs}
    ids = list(by_id)
    existing: dict[str, Job] = {}
    for i in range(0, len(ids), 500):
        query = select(Job).options(selectinload(Job.technicians)).where(Job.service_job_id.in_(ids[i:i + 500]))
        for row in session.scalars(query):
            existing[row.service_job_id] = row
    created = 0
    for job_id, job in by_id.items():
        values = job_row_values(job, now)
        appt = job.current_appointment
        techs = {t.technician_id: t.name for t in (appt.technicians if appt else ())}
        row = existing.get(job_id)
        if row is None:
            row = Job(service_job_id=job_id, **values)
            session.add(row)
            created += 1
        else:
            for key, value in values.items():
                setattr(row, key, value)
        current = {t.technician_id: t for t in row.technicians}
        for tech_id in set(current) - set(techs):
            row.technicians.remove(current[tech_id])
        for tech_id, name in techs.items():
            if tech_id in current:
                current[tech_id].name = name
            else:
                row.technicians.append(JobTechnician(technician_id=tech_id, name=name))
    return created, len(by_id) - created


def _lock_sync(session: Session) -> None:
    # Two syncs at once (worker and CLI) would race on the same rows; on
    # PostgreSQL an advisory lock queues them. SQLite's BEGIN IMMEDIATE already does.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('techapi.sync'))"))


def sync_day(deps: Deps, day: date | None = None) -> SyncResult:
    """Sync the jobs of `day` (default: today in TECHAPI_TIMEZONE)."""
    day = day or local_today(deps.clock, deps.settings.timezone)
    return sync_days(deps, day, day)


def sync_days(deps: Deps, first: date, last: date) -> SyncResult:
    """Sync the jobs of the days from `first` to `last`: one full pull over the days
    never pulled yet (the worker keeps the phones' offline window filled this way),
    then the jobs updated upstream since the last sync, wherever they are scheduled."""
    settings, clock, client = deps.settings, deps.clock, deps.spapi
    tz_name = settings.timezone
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    started = clock.now()
    with deps.db.session() as session:
        unsynced = [d for d in days if session.get(SyncedDay, d) is None]
        cursor = session.get(SyncCursor, CURSOR)
        since = cursor.updated_after if cursor else None
    full = bool(unsynced)

    fetched: dict[str, ServiceJob] = {}
    if full:
        lo, hi = day_bounds(unsynced[0], tz_name)[0], day_bounds(unsynced[-1], tz_name)[1]
        query = ServiceJobsQuery(
            created_after=lo - timedelta(days=settings.sync_lookback_days),
            schedule_start=lo,
            schedule_end=hi - timedelta(milliseconds=1),
        )
        fetched.update((j.service_job_id, j) for j in client.iter_service_jobs(query))
    if since is not None:
        # Fetched after the full pull, so these are the newer versions.
        query = ServiceJobsQuery(last_updated_after=since - OVERLAP)
        fetched.update((j.service_job_id, j) for j in client.iter_service_jobs(query))

    with deps.db.transaction() as session:
        _lock_sync(session)
        created, updated = upsert_jobs(session, fetched.values(), clock.now())
        for hook in deps.sync_hooks:
            hook(session, list(fetched.values()), clock.now())
        for day in unsynced:
            session.merge(SyncedDay(day=day, synced_at=clock.now()))
        cursor = session.get(SyncCursor, CURSOR)
        if cursor is None:
            session.add(SyncCursor(name=CURSOR, updated_after=started))
        elif cursor.updated_after < started:
            cursor.updated_after = started
    result = SyncResult(day=first, full=full, fetched=len(fetched), created=created, updated=updated)
    log.info("sync %s to %s: %s", first.isoformat(), last.isoformat(), result)
    return result
