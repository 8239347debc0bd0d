"""Documents Amazon refuses at fulfillment for what they hold (its malware check).

Such a document can never be sent: sending it again is refused again, so a
closure that retried it would fail for ever. It becomes FAILED with Amazon's
reason, the closure fails naming it, and the technician uploads a replacement;
the retried closure then leaves the refused document out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from techapi.evidence.documents import move_document
from techapi.evidence.models import Document, DocumentStatus
from techapi.evidence.summary import evidence_of
from techapi.jobs import readiness
from techapi.jobs.models import Job
from techapi.spapi.client import SpApiClient
from techapi.spapi.errors import SpApiUnprocessable, document_content_refusal
from techapi.spapi.types import FulfillmentData, FulfillmentDocument

MAX_REASON = 1000  # Closure.failure_reason
# What a refused document leaves missing; the rest of readiness is not its doing.
DOCUMENT_NEEDS = (readiness.Needed.POA_DOCUMENT, readiness.Needed.PHOTOS)


def find_refused(spapi: SpApiClient, job_id: str, appointment_id: str,
                 sent: Sequence[FulfillmentDocument]) -> list[FulfillmentDocument]:
    """Which of the documents sent together Amazon refuses: SP-API's message does
    not say, so with more than one each is sent alone (documents only, which sets
    nothing else; the retried closure sends the full set again). Transient errors
    propagate: the closure task is retried."""
    if len(sent) <= 1:
        return list(sent)
    refused = []
    for document in sent:
        try:
            spapi.set_appointment_fulfillment_data(job_id, appointment_id, FulfillmentData(documents=(document,)))
        except SpApiUnprocessable as exc:
            if document_content_refusal(exc) is not None:
                refused.append(document)
    return refused


def _describe(docs: Sequence[Document]) -> str:
    named = [f"{d.id} ({d.kind}{f', {d.file_name}' if d.file_name else ''})" for d in docs]
    return f"document{'s' if len(named) > 1 else ''} {', '.join(named)}"


def mark_refused(session: Session, job_id: str, destination_ids: Sequence[str], message: str,
                 now: datetime) -> str:
    """The refused documents FAILED with Amazon's reason; the closure's reason, naming them."""
    message = message.rstrip(". ") + "."
    docs = list(session.scalars(select(Document).where(
        Document.service_job_id == job_id, Document.upload_destination_id.in_(list(destination_ids)))
        .order_by(Document.created_at, Document.id)))
    for doc in docs:
        if doc.status == DocumentStatus.UPLOADED:
            move_document(session, doc, DocumentStatus.FAILED, now,
                          reason=f"Refused by Amazon: {message} Upload a replacement.")
    reason = (f"Amazon refused {_describe(docs)}: {message} The technician must upload a replacement; "
              "then retry the closure.")
    return reason[:MAX_REASON]


def unreplaced(session: Session, job_id: str, min_photos: int) -> str | None:
    """Why the closure cannot go on: a document Amazon refused and nothing yet
    in its place; None when there is no refused document or it was replaced."""
    refused = [d for d in session.scalars(select(Document).where(
        Document.service_job_id == job_id, Document.status == DocumentStatus.FAILED)
        .order_by(Document.created_at, Document.id)) if d.refused_by_amazon]
    job = session.get(Job, job_id)
    if not refused or job is None:
        return None
    needed = [n for n in readiness.still_needed(job.status, job.appointment_status, evidence_of(session, job_id),
                                                min_photos) if n in DOCUMENT_NEEDS]
    if not needed:
        return None
    reason = (f"Amazon refused {_describe(refused)} (see its failureReason) and nothing replaces it yet "
              f"({', '.join(needed)} missing): the technician must upload a replacement, then retry the closure.")
    return reason[:MAX_REASON]
