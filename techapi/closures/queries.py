"""The supervisor's closure list: a read across closures, jobs and evidence, in
a fixed number of queries however long the list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload, selectinload

from techapi.auth.models import Role, User
from techapi.closures.models import Closure
from techapi.errors import ForbiddenError
from techapi.evidence.models import Document, TimeKind, TimeRecord
from techapi.jobs import versions
from techapi.jobs.address import one_line
from techapi.jobs.models import Job


@dataclass(frozen=True)
class Evidence:
    start_record: TimeRecord | None  # device time and clock correction, for the console
    finish_record: TimeRecord | None
    documents: list[Document]

    @property
    def start(self) -> datetime | None:
        return self.start_record.at if self.start_record else None

    @property
    def finish(self) -> datetime | None:
        return self.finish_record.at if self.finish_record else None


@dataclass(frozen=True)
class ClosureSummary:
    """A closure as the list shows it; reads as the closure itself, plus its job and evidence."""

    closure: Closure
    job: Job
    evidence: Evidence

    def __getattr__(self, name: str) -> Any:
        return getattr(self.closure, name)

    @property
    def address(self) -> str | None:
        return one_line(self.job.address) if self.job.address else None

    @property
    def technicians(self) -> list[str]:
        return [t.technician_id for t in self.job.technicians]


def _scoped(query: Select, user: User, state: str | None) -> Select:
    if user.role == Role.TECHNICIAN:
        raise ForbiddenError("Closures are listed for supervisors")
    if user.role == Role.SUPERVISOR:
        query = query.where(Job.store_id.in_(user.store_ids))
    if state:
        query = query.where(Closure.state == state)
    return query


def closure_list_parts(session: Session, user: User, state: str | None, default_tz: str) -> tuple[object, ...]:
    """What the list's ETag depends on: the caller, the filter and the versions of
    the listed closures' jobs (a closure's change bumps its job's version)."""
    query = _scoped(select(Job).join(Closure, Job.service_job_id == Closure.service_job_id), user, state)
    return ("closures", versions.caller(user, default_tz), state, versions.versions_of(session, query))


def list_closures(session: Session, user: User, state: str | None) -> list[ClosureSummary]:
    """Closures of the caller's stores (all for an admin), oldest request first."""
    query = _scoped(select(Closure, Job).join(Job, Job.service_job_id == Closure.service_job_id)
                    .options(selectinload(Job.technicians), joinedload(Closure.requester)), user, state)
    rows = session.execute(query.order_by(Closure.requested_at, Closure.service_job_id)).all()
    ids = [closure.service_job_id for closure, _ in rows]
    times: dict[tuple[str, str], TimeRecord] = {}
    documents: dict[str, list[Document]] = {job_id: [] for job_id in ids}
    if ids:
        for record in session.scalars(select(TimeRecord).where(TimeRecord.service_job_id.in_(ids))):
            times[(record.service_job_id, record.kind)] = record
        for doc in session.scalars(select(Document).where(Document.service_job_id.in_(ids))
                                   .order_by(Document.created_at, Document.id)):
            documents[doc.service_job_id].append(doc)
    return [ClosureSummary(closure, job, Evidence(times.get((job.service_job_id, TimeKind.START)),
                                                  times.get((job.service_job_id, TimeKind.FINISH)),
                                                  documents[job.service_job_id]))
            for closure, job in rows]
