"""Evidence counts for many jobs at once, for readiness in lists."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from techapi.evidence.models import COUNTED, Document, DocumentKind, TimeKind, TimeRecord
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
