"""Each technician's row of a job carries the job's appointment start
(job_technicians.appointment_start), so a technician's day is one range of the
index (technician_id, appointment_start): found in as many rows as the day has,
with a plan that does not depend on the values it runs with (techapi.reads.fast
keeps its plans). The copy is made by the session itself at every flush, from
whatever changed: a job's start (sync, reschedule) or its technicians (sync,
assignment)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, sessionmaker

from techapi.jobs.models import Job, JobTechnician


def copy_starts(session: Session) -> None:
    """Bring the technicians' copies of the new and changed jobs' starts up to date."""
    with session.no_autoflush:
        for obj in (*session.new, *session.dirty):
            if isinstance(obj, Job):
                attrs = inspect(obj).attrs
                if obj in session.new or attrs.appointment_start.history.has_changes() \
                        or attrs.technicians.history.has_changes():
                    for technician in obj.technicians:
                        if technician.appointment_start != obj.appointment_start:
                            technician.appointment_start = obj.appointment_start
            elif isinstance(obj, JobTechnician) and obj in session.new and obj.service_job_id is not None:
                job = session.get(Job, obj.service_job_id)  # a row added on its own, not through job.technicians
                if job is not None:
                    obj.appointment_start = job.appointment_start


def keep(sessions: sessionmaker[Session]) -> None:
    def before_flush(session: Session, _context: Any, _instances: Any) -> None:
        copy_starts(session)

    event.listen(sessions, "before_flush", before_flush)
