"""Sending an approved closure to SP-API, exactly once, whatever fails on the way.

Every step is safe to repeat: the job's state on SP-API is read first, so a
completion that went through before a timeout, a 5xx or a killed process is
found and counted, never sent again. setAppointmentFulfillmentData replaces what
it sets, so repeating it is harmless.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from techapi import audit
from techapi.closures.models import Cancellation, CancellationState, Closure, ClosureState
from techapi.context import Deps
from techapi.evidence.models import Document, DocumentStatus, TimeKind, TimeRecord
from techapi.evidence.tasks import upload_document
from techapi.jobs.models import Job, JobTechnician
from techapi.jobs.sync import upsert_jobs
from techapi.spapi.errors import (
    SpApiError,
    SpApiServerError,
    SpApiThrottled,
    SpApiTransportError,
    SpApiUnprocessable,
)
from techapi.spapi.models import FulfillmentData, FulfillmentDocument, ServiceJob
from techapi.worker.queue import PermanentFailure, RetryLater

log = logging.getLogger(__name__)
TRANSIENT = (SpApiServerError, SpApiThrottled, SpApiTransportError)


def _backoff(deps: Deps, attempt: int) -> float:
    return min(900.0, deps.settings.task_backoff_seconds * 2 ** (attempt - 1))


def _refresh(deps: Deps, job: ServiceJob) -> None:
    with deps.db.session() as session:
        upsert_jobs(session, [job], deps.clock.now())
        session.commit()


def _finish(deps: Deps, job_id: str, state: ClosureState, *, reason: str | None = None,
            upstream: ServiceJob | None = None, note: str | None = None) -> None:
    now = deps.clock.now()
    with deps.db.session() as session:
        closure = session.get(Closure, job_id)
        if closure is None:
            return
        closure.state, closure.updated_at = state, now
        closure.failure_reason = reason
        if upstream is not None:
            closure.upstream_status = upstream.status
        if state == ClosureState.COMPLETED:
            closure.completed_at = now
        details = {k: v for k, v in (("reason", reason), ("note", note)) if v}
        audit.record(session, job_id, f"closure.{state.lower()}", now, "worker", source="worker", details=details)
        session.commit()
    if upstream is not None:
        _refresh(deps, upstream)


def _upstream(deps: Deps, job_id: str) -> ServiceJob:
    try:
        return deps.spapi.get_service_job(job_id)
    except TRANSIENT as exc:
        raise RetryLater(f"reading the job from SP-API: {exc}", 0) from None


def close_job(deps: Deps, job_id: str, attempt: int) -> None:
    try:
        _close(deps, job_id, attempt)
    except RetryLater as exc:
        raise RetryLater(exc.reason, exc.delay or _backoff(deps, attempt)) from None


def _close(deps: Deps, job_id: str, attempt: int) -> None:
    with deps.db.session() as session:
        closure = session.get(Closure, job_id)
        if closure is None or closure.state != ClosureState.QUEUED:
            return  # decided otherwise meanwhile, or already done

    upstream = _upstream(deps, job_id)
    if upstream.status == "COMPLETED":
        _finish(deps, job_id, ClosureState.COMPLETED, upstream=upstream,
                note="SP-API already shows the job completed")
        return
    if upstream.status != "NOT_SERVICED":
        reason = f"On SP-API the job is {upstream.status}; it cannot be completed"
        _finish(deps, job_id, ClosureState.FAILED, upstream=upstream, reason=reason)
        raise PermanentFailure(reason)

    _ensure_uploaded(deps, job_id, attempt)
    data, appointment_id = _fulfillment(deps, job_id)
    try:
        deps.spapi.set_appointment_fulfillment_data(job_id, appointment_id, data)
        _step(deps, job_id, "FULFILLMENT_SET", "closure.fulfillment_set",
              {"documents": len(data.documents), "resources": list(data.resource_ids)})
        deps.spapi.complete_service_job(job_id)
    except TRANSIENT as exc:
        raise RetryLater(str(exc), 0) from None
    except SpApiUnprocessable as exc:
        # Maybe an earlier, ambiguous attempt did the work: trust SP-API's state.
        upstream = _upstream(deps, job_id)
        if upstream.status == "COMPLETED":
            _finish(deps, job_id, ClosureState.COMPLETED, upstream=upstream)
            return
        _finish(deps, job_id, ClosureState.FAILED, upstream=upstream, reason=f"SP-API refused: {exc.message}")
        raise PermanentFailure(str(exc)) from None
    except SpApiError as exc:
        _finish(deps, job_id, ClosureState.FAILED, reason=f"SP-API refused: {exc.message or exc}")
        raise PermanentFailure(str(exc)) from None
    _finish(deps, job_id, ClosureState.COMPLETED, upstream=_upstream_or_none(deps, job_id))


def _upstream_or_none(deps: Deps, job_id: str) -> ServiceJob | None:
    try:
        return deps.spapi.get_service_job(job_id)
    except SpApiError:
        return None  # the next sync refreshes it


def _step(deps: Deps, job_id: str, step: str, action: str, details: dict) -> None:
    now = deps.clock.now()
    with deps.db.session() as session:
        closure = session.get(Closure, job_id)
        if closure is not None and closure.step != step:
            closure.step, closure.updated_at = step, now
            audit.record(session, job_id, action, now, "worker", source="worker", details=details)
            session.commit()


def _ensure_uploaded(deps: Deps, job_id: str, attempt: int) -> None:
    with deps.db.session() as session:
        pending = session.execute(select(Document.id, Document.status).where(
            Document.service_job_id == job_id, Document.status != DocumentStatus.UPLOADED)).all()
    for document_id, status in pending:
        if status == DocumentStatus.FAILED:
            with deps.db.session() as session:
                doc = session.get(Document, document_id)
                reason = doc.failure_reason if doc else "unknown"
            _finish(deps, job_id, ClosureState.FAILED, reason=f"Document {document_id} could not be uploaded: {reason}")
            raise PermanentFailure(f"document {document_id} failed")
        try:
            upload_document(deps, document_id, attempt)
        except PermanentFailure as exc:
            _finish(deps, job_id, ClosureState.FAILED, reason=f"Document {document_id} could not be uploaded: {exc}")
            raise


def _fulfillment(deps: Deps, job_id: str) -> tuple[FulfillmentData, str]:
    with deps.db.session() as session:
        job = session.get(Job, job_id)
        start = session.get(TimeRecord, (job_id, TimeKind.START))
        finish = session.get(TimeRecord, (job_id, TimeKind.FINISH))
        technicians = session.scalars(select(JobTechnician.technician_id)
                                      .where(JobTechnician.service_job_id == job_id)).all()
        docs = session.execute(select(Document.upload_destination_id, Document.content_sha256)
                               .where(Document.service_job_id == job_id,
                                      Document.status == DocumentStatus.UPLOADED)
                               .order_by(Document.created_at, Document.id)).all()
        if job is None or job.appointment_id is None or start is None or finish is None or not docs:
            raise PermanentFailure("the job lost its appointment, times or documents")
        data = FulfillmentData(
            start=start.at, end=finish.at, resource_ids=tuple(technicians),
            documents=tuple(FulfillmentDocument(d, s) for d, s in docs))
        return data, job.appointment_id


# Cancellation ------------------------------------------------------------------------


def _cancellation_done(deps: Deps, job_id: str, state: CancellationState, reason: str | None,
                       upstream: ServiceJob | None) -> None:
    now = deps.clock.now()
    with deps.db.session() as session:
        cancellation = session.get(Cancellation, job_id)
        if cancellation is not None:
            cancellation.state, cancellation.failure_reason, cancellation.updated_at = state, reason, now
            audit.record(session, job_id, f"cancellation.{state.lower()}", now, "worker", source="worker",
                         details={"reason": reason} if reason else {})
            session.commit()
    if upstream is not None:
        _refresh(deps, upstream)


def cancel_job(deps: Deps, job_id: str, attempt: int) -> None:
    with deps.db.session() as session:
        cancellation = session.get(Cancellation, job_id)
        if cancellation is None or cancellation.state != CancellationState.QUEUED:
            return
        code = cancellation.reason_code
        cancellation.attempts = attempt
        session.commit()
    try:
        upstream = deps.spapi.get_service_job(job_id)
        if upstream.status == "CANCELLED":
            _cancellation_done(deps, job_id, CancellationState.COMPLETED, None, upstream)
            return
        deps.spapi.cancel_service_job(job_id, code)
    except TRANSIENT as exc:
        raise RetryLater(str(exc), _backoff(deps, attempt)) from None
    except SpApiError as exc:
        upstream = _upstream_or_none(deps, job_id)
        if upstream is not None and upstream.status == "CANCELLED":
            _cancellation_done(deps, job_id, CancellationState.COMPLETED, None, upstream)
            return
        _cancellation_done(deps, job_id, CancellationState.FAILED, f"SP-API refused: {exc.message or exc}", upstream)
        raise PermanentFailure(str(exc)) from None
    _cancellation_done(deps, job_id, CancellationState.COMPLETED, None, _upstream_or_none(deps, job_id))
