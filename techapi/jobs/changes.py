"""The change counter behind the delta feed (GET /v1/sync/changes).

Every commit that changes what a job's responses show takes the next value of one
counter row and stamps it on the jobs it changed (`jobs.change_seq`), and records
the jobs that left a technician or a store (`job_departures`). The value is taken
as the last statement before COMMIT, under the counter row's lock, so values are
handed out in commit order across every web and worker process: a reader that sees
the counter at C has seen every change stamped C or lower. A sequence or a
wall-clock timestamp would not promise that (a transaction that took 10 can commit
after one that took 11, and a reader between them would skip 10 for ever).

The lock is the last one a committing transaction takes and is held only until its
COMMIT, and the rows stamped are rows the transaction already wrote, so it cannot
deadlock with the row locks taken earlier.

Versions (techapi.jobs.versions) are bumped in the same hook, at each flush."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, event, insert, inspect, select, update
from sqlalchemy.orm import Session, sessionmaker

from techapi.clock import Clock
from techapi.jobs.models import ChangeCounter, Job, JobDeparture, JobTechnician
from techapi.jobs.versions import bump, changed_jobs

CHANGED, DEPARTED = "techapi.changed_jobs", "techapi.departures"


@dataclass(frozen=True)
class Departure:
    service_job_id: str
    technician_id: str | None = None
    store_id: str | None = None


def departures(session: Session) -> set[Departure]:
    """Who this flush takes a job away from: a technician no longer named on it, a
    store it moved out of (a job deleted leaves its store and its technicians)."""
    gone: set[Departure] = set()
    added = {(t.service_job_id, t.technician_id) for t in session.new if isinstance(t, JobTechnician)}
    for obj in session.deleted:
        if isinstance(obj, JobTechnician) and (obj.service_job_id, obj.technician_id) not in added:
            gone.add(Departure(obj.service_job_id, technician_id=obj.technician_id))
        elif isinstance(obj, Job) and obj.store_id:
            gone.add(Departure(obj.service_job_id, store_id=obj.store_id))
    for obj in session.dirty:
        if isinstance(obj, Job):
            attrs = inspect(obj).attrs
            gone.update(Departure(obj.service_job_id, store_id=old) for old in attrs.store_id.history.deleted or ()
                        if old)
            # Technicians taken off the collection become orphans, deleted by the flush itself.
            techs = attrs.technicians.history
            kept = {t.technician_id for t in techs.added or ()}
            gone.update(Departure(obj.service_job_id, technician_id=t.technician_id) for t in techs.deleted or ()
                        if t.technician_id not in kept)
    return gone


def _next_value(session: Session) -> int:
    table = ChangeCounter.__table__
    value = session.connection().execute(
        update(table).where(table.c.id == 1).values(value=table.c.value + 1).returning(table.c.value)).scalar()
    if value is None:  # the row deleted by hand: start again, as a new epoch (every cursor is 410)
        session.connection().execute(insert(table).values(id=1, value=1, epoch=uuid.uuid4().hex))
        # Jobs stamped under the old epoch would sit above the new counter; bring them to its start.
        session.connection().execute(update(Job.__table__).values(change_seq=1))
        value = 1
    return value


def stamp(session: Session, job_ids: Iterable[str], gone: Iterable[Departure], now: datetime,
          keep: timedelta) -> None:
    """Take the counter's next value for this transaction's changes (just before COMMIT)."""
    ids, gone = sorted(set(job_ids)), list(gone)
    if not ids and not gone:
        return
    value = _next_value(session)
    conn = session.connection()
    jobs = Job.__table__
    for i in range(0, len(ids), 500):
        conn.execute(update(jobs).where(jobs.c.service_job_id.in_(ids[i:i + 500])).values(change_seq=value))
    if gone:
        conn.execute(insert(JobDeparture.__table__), [
            dict(seq=value, service_job_id=d.service_job_id, technician_id=d.technician_id, store_id=d.store_id,
                 at=now) for d in gone])
        conn.execute(delete(JobDeparture.__table__).where(JobDeparture.__table__.c.at < now - keep))


def current(session: Session) -> tuple[int, str]:
    """(the counter's value, the database's epoch): every change up to the value is committed."""
    row = session.execute(select(ChangeCounter.value, ChangeCounter.epoch).where(ChangeCounter.id == 1)).first()
    return (row[0], row[1]) if row else (0, "")


def track(sessions: sessionmaker[Session], models: Iterable[type], clock: Clock, keep: timedelta) -> None:
    """On each flush of `sessions`, bump the version of every job whose row or
    whose rows of `models` (each has a service_job_id) change, and remember it; on
    commit, stamp the remembered jobs with the counter's next value."""
    tracked = (JobTechnician, *models)

    def before_flush(session: Session, _context: Any, _instances: Any) -> None:
        ids = changed_jobs(session, tracked)
        bump(session, ids)
        ids.update(j.service_job_id for j in session.new if isinstance(j, Job))
        session.info.setdefault(CHANGED, set()).update(i for i in ids if i is not None)
        session.info.setdefault(DEPARTED, set()).update(departures(session))

    def before_commit(session: Session) -> None:
        if session.in_nested_transaction():  # a savepoint: the value is taken at the real COMMIT
            return
        session.flush()
        ids, gone = session.info.pop(CHANGED, set()), session.info.pop(DEPARTED, set())
        stamp(session, ids, gone, clock.now(), keep)

    def forget(session: Session, *_: Any) -> None:
        session.info.pop(CHANGED, None)
        session.info.pop(DEPARTED, None)

    event.listen(sessions, "before_flush", before_flush)
    event.listen(sessions, "before_commit", before_commit)
    event.listen(sessions, "after_rollback", forget)
