"""Evidence counts for many jobs at once, for readiness in lists: as columns of
the list's own query (one round trip), or as a query of their own."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from sqlalchemy import ColumnElement, func, literal, or_, select
from sqlalchemy.orm import Session

from techapi.evidence.models import COUNTED, Document, DocumentKind, TimeKind, TimeRecord
from techapi.jobs.models import Job
from techapi.jobs.readiness import Evidence

CHUNK = 500


def evidence_for(session: Session, job_ids: Iterable[str]) -> dict[str, Evidence]:
    ids = list(job_ids)
    times: dict[str, set[str]] = {}
    docs: dict[str, dict[str, int]] = {}
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i:i + CHUNK]
        for job_id, kind in session.execute(
                select(TimeRecord.service_job_id, TimeRecord.kind).where(TimeRecord.service_job_id.in_(chunk))):
            times.setdefault(job_id, set()).add(kind)
        for job_id, kind, count in session.execute(
                select(Document.service_job_id, Document.kind, func.count())
                .where(Document.service_job_id.in_(chunk), Document.status.in_(COUNTED))
                .group_by(Document.service_job_id, Document.kind)):
            docs.setdefault(job_id, {})[kind] = count
    return {
        job_id: Evidence(
            has_start=TimeKind.START in times.get(job_id, ()),
            has_end=TimeKind.FINISH in times.get(job_id, ()),
            poa_documents=docs.get(job_id, {}).get(DocumentKind.POA, 0),
            photos=docs.get(job_id, {}).get(DocumentKind.PHOTO, 0),
        )
        for job_id in ids
    }


def evidence_of(session: Session, job_id: str) -> Evidence:
    return evidence_for(session, [job_id])[job_id]


def _has_time(kind: TimeKind) -> ColumnElement[bool]:
    # A scalar subquery, not EXISTS: PostgreSQL turns an EXISTS in the select list into a
    # hashed subplan that reads every time record of the table for each list; this one is
    # a primary-key lookup per job.
    return (select(literal(1)).where(TimeRecord.service_job_id == Job.service_job_id, TimeRecord.kind == kind)
            .limit(1).scalar_subquery().is_not(None))


def _counted(kind: DocumentKind) -> ColumnElement[int]:
    # OR of equalities, not IN: a statement with no expanding parameter compiles once for good
    # (techapi.reads.fast runs it as plain SQL).
    return (select(func.count()).select_from(Document)
            .where(Document.service_job_id == Job.service_job_id, Document.kind == kind,
                   or_(*(Document.status == status for status in COUNTED))).scalar_subquery())


@functools.cache  # built once: a statement's construction costs more than its (cached) compilation
def evidence_columns() -> tuple[ColumnElement, ...]:
    """Each job's evidence as four correlated columns of a query over Job (indexed
    lookups per job), so a list reads its jobs and their evidence in one round trip."""
    return (_has_time(TimeKind.START).label("has_start"), _has_time(TimeKind.FINISH).label("has_end"),
            _counted(DocumentKind.POA).label("poa_documents"), _counted(DocumentKind.PHOTO).label("photos"))


def evidence_in(row: object) -> Evidence:
    """The Evidence of a row that has the evidence_columns."""
    get = row.__getattribute__
    return Evidence(has_start=bool(get("has_start")), has_end=bool(get("has_end")),
                    poa_documents=get("poa_documents"), photos=get("photos"))
