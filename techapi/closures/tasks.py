"""Sending an approved closure, or a cancellation, to SP-API exactly once,
whatever fails on the way (worker tasks).

Every step is safe to repeat: the job's state on SP-API is read first, so a
completion that went through before a timeout, a 5xx or a killed process is
found and counted, never sent again. setAppointmentFulfillmentData replaces what
it sets, so repeating it is harmless.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from sqlalchemy import select

from techapi.audit.trail import WORKER
from techapi.closures import refusals
from techapi.closures.lifecycle import advance_step, move_cancellation, move_closure
from techapi.closures.models import Cancellation, CancellationState, Closure, ClosureState, ClosureStep
from techapi.context import Deps
from techapi.evidence.models import Document, DocumentStatus
from techapi.evidence.tasks import UPLOAD_DOCUMENT, document_failed, upload_document
from techapi.evidence.times import times_of
from techapi.jobs.models import Job, JobTechnician
from techapi.jobs.sync import upsert_jobs
from techapi.queue import leases
from techapi.queue.kinds import PermanentFailure, RetryLater, TaskKind
from techapi.spapi.errors import (
    SpApiError,
    SpApiServerError,
    SpApiThrottled,
    SpApiTransportError,
    SpApiUnprocessable,
    document_content_refusal,
)
from techapi.spapi.types import FulfillmentData, FulfillmentDocument, JobStatus, ServiceJob

log = logging.getLogger(__name__)
TRANSIENT = (SpApiServerError, SpApiThrottled, SpApiTransportError)


def _upstream(deps: Deps, job_id: str) -> ServiceJob:
    try:
        return deps.spapi.get_service_job(job_id)
    except TRANSIENT as exc:
        raise RetryLater(f"reading the job from SP-API: {exc}") from None


def _upstream_or_none(deps: Deps, job_id: str) -> ServiceJob | None:
    try:
        return deps.spapi.get_service_job(job_id)
    except SpApiError:
        return None  # the next sync refreshes it


def _finish(deps: Deps, job_id: str, state: ClosureState, *, reason: str | None = None,
            upstream: ServiceJob | None = None, note: str | None = None,
            refused: tuple[Sequence[str], str] | None = None) -> str | None:
    """The closure completed or failed; the job as SP-API now shows it, and the
    documents Amazon refused (destination IDs, its message) FAILED, in the same
    transaction. The failure reason, or None when the closure had moved on."""
    now = deps.clock.now()
    with deps.db.transaction() as session:
        closure = session.get(Closure, job_id)
        if closure is None or closure.state != ClosureState.QUEUED:
            return None  # finished meanwhile (a run taken over after its lease): once is enough
        if refused is not None:
            reason = refusals.mark_refused(session, job_id, refused[0], refused[1], now)
        details = {k: v for k, v in (("reason", reason), ("note", note)) if v}
        move_closure(session, closure, state, now, WORKER, f"closure.{state.lower()}", reason=reason,
                     details=details)
        if upstream is not None:
            closure.upstream_status = upstream.status
            upsert_jobs(session, [upstream], now)
    return reason


def _fail(deps: Deps, job_id: str, reason: str, upstream: ServiceJob | None = None) -> PermanentFailure:
    _finish(deps, job_id, ClosureState.FAILED, reason=reason, upstream=upstream)
    return PermanentFailure(reason)


def close_job(deps: Deps, job_id: str, attempt: int) -> None:
    with deps.db.session() as session:
        closure = session.get(Closure, job_id)
        if closure is None or closure.state != ClosureState.QUEUED:
            return  # decided otherwise meanwhile, or already done

    upstream = _upstream(deps, job_id)
    if upstream.status == JobStatus.COMPLETED:
        _finish(deps, job_id, ClosureState.COMPLETED, upstream=upstream, note="SP-API already shows the job completed")
        return
    if upstream.status != JobStatus.NOT_SERVICED:
        raise _fail(deps, job_id, f"On SP-API the job is {upstream.status}; it cannot be completed", upstream)

    with deps.db.session() as session:
        waiting = refusals.unreplaced(session, job_id, deps.settings.min_photos)
    if waiting is not None:
        raise _fail(deps, job_id, waiting)
    _ensure_uploaded(deps, job_id, attempt)
    data, appointment_id = _fulfillment(deps, job_id)
    try:
        deps.spapi.set_appointment_fulfillment_data(job_id, appointment_id, data)
        with deps.db.transaction() as session:
            closure = session.get(Closure, job_id)
            if closure is not None:
                advance_step(session, closure, ClosureStep.FULFILLMENT_SET, deps.clock.now(), WORKER,
                             {"documents": len(data.documents), "resources": list(data.resource_ids)})
        deps.spapi.complete_service_job(job_id)
    except TRANSIENT as exc:
        raise RetryLater(str(exc)) from None
    except SpApiUnprocessable as exc:
        # Maybe an earlier, ambiguous attempt did the work: trust SP-API's state.
        upstream = _upstream(deps, job_id)
        if upstream.status == JobStatus.COMPLETED:
            _finish(deps, job_id, ClosureState.COMPLETED, upstream=upstream)
            return
        refusal = document_content_refusal(exc)
        if refusal is not None:
            raise _documents_refused(deps, job_id, appointment_id, data, refusal, upstream) from None
        raise _fail(deps, job_id, f"SP-API refused: {exc.message}", upstream) from None
    except SpApiError as exc:
        raise _fail(deps, job_id, f"SP-API refused: {exc.message or exc}") from None
    _finish(deps, job_id, ClosureState.COMPLETED, upstream=_upstream_or_none(deps, job_id))


def _documents_refused(deps: Deps, job_id: str, appointment_id: str, data: FulfillmentData,
                       message: str, upstream: ServiceJob) -> PermanentFailure:
    """Amazon refused a document for what it holds (`message`): that document
    FAILED, the closure FAILED naming it, for the technician to replace; never
    retried as is."""
    try:
        refused = refusals.find_refused(deps.spapi, job_id, appointment_id, data.documents)
    except TRANSIENT as probe:
        raise RetryLater(f"finding the document SP-API refused: {probe}") from None
    except SpApiError as probe:
        return _fail(deps, job_id, f"SP-API refused: {message} (finding which document: {probe})", upstream)
    if not refused:  # refused together but not alone: say what SP-API said
        return _fail(deps, job_id, f"SP-API refused: {message}", upstream)
    ids = [d.upload_destination_id for d in refused]
    reason = _finish(deps, job_id, ClosureState.FAILED, upstream=upstream, refused=(ids, message))
    return PermanentFailure(reason or message)


def _ensure_uploaded(deps: Deps, job_id: str, attempt: int) -> None:
    """A closure uploads its own documents that are not up yet, taking over their
    upload tasks so that no document is ever sent twice; one another worker is
    uploading right now is waited for (the closure is retried shortly)."""
    with deps.db.session() as session:
        pending = [(d.id, d.status, d.failure_reason) for d in session.scalars(select(Document).where(
            Document.service_job_id == job_id, Document.status != DocumentStatus.UPLOADED))
            if not d.refused_by_amazon]  # replaced (unreplaced() said so): left out, never sent
    owner = leases.owner_name(f"close_job-{uuid.uuid4().hex[:8]}")
    for document_id, status, failure in pending:
        if status == DocumentStatus.FAILED:
            raise _fail(deps, job_id, f"Document {document_id} could not be uploaded: {failure}")
        try:
            held = leases.take_over(deps.db, UPLOAD_DOCUMENT.name, document_id, owner, deps.clock.now(),
                                    deps.settings.task_lease_seconds)
        except leases.Held:
            raise RetryLater(f"document {document_id} is being uploaded by another worker") from None
        try:
            upload_document(deps, document_id, held.attempts if held else attempt)
        except PermanentFailure as exc:
            if held:
                leases.fail(deps.db, held, deps.clock.now(), str(exc))
            document_failed(deps, document_id, str(exc))
            raise _fail(deps, job_id, f"Document {document_id} could not be uploaded: {exc}") from None
        except BaseException as exc:  # passing failure or crash: the upload task is free again at once
            if held:
                leases.retry_later(deps.db, held, deps.clock.now(), 0, f"{type(exc).__name__}: {exc}")
            raise
        if held:
            leases.complete(deps.db, held, deps.clock.now())


def _fulfillment(deps: Deps, job_id: str) -> tuple[FulfillmentData, str]:
    with deps.db.session() as session:
        appointment_id = session.scalar(select(Job.appointment_id).where(Job.service_job_id == job_id))
        start, finish = times_of(session, job_id)
        worked = (start.at, finish.at) if start is not None and finish is not None else None
        technicians = session.scalars(select(JobTechnician.technician_id)
                                      .where(JobTechnician.service_job_id == job_id)).all()
        docs = session.execute(select(Document.upload_destination_id, Document.content_sha256)
                               .where(Document.service_job_id == job_id,
                                      Document.status == DocumentStatus.UPLOADED)
                               .order_by(Document.created_at, Document.id)).all()
    if appointment_id is None or worked is None or not docs:
        raise _fail(deps, job_id, "The job lost its appointment, times or documents")
    return FulfillmentData(start=worked[0], end=worked[1], resource_ids=tuple(technicians),
                           documents=tuple(FulfillmentDocument(d, s) for d, s in docs)), appointment_id


def closure_failed(deps: Deps, job_id: str, reason: str) -> None:
    """The task gave up: a closure still queued is FAILED with the reason, for a supervisor to retry."""
    with deps.db.transaction() as session:
        closure = session.get(Closure, job_id)
        if closure is not None and closure.state == ClosureState.QUEUED:
            move_closure(session, closure, ClosureState.FAILED, deps.clock.now(), WORKER, "closure.failed",
                         reason=reason[:1000], details={"reason": reason})


# Cancellation ------------------------------------------------------------------------


def _cancellation_done(deps: Deps, job_id: str, state: CancellationState, reason: str | None,
                       upstream: ServiceJob | None) -> None:
    now = deps.clock.now()
    with deps.db.transaction() as session:
        cancellation = session.get(Cancellation, job_id)
        if cancellation is not None and cancellation.state == CancellationState.QUEUED:
            move_cancellation(session, cancellation, state, now, WORKER, reason=reason)
        if upstream is not None:
            upsert_jobs(session, [upstream], now)


def cancel_job(deps: Deps, job_id: str, attempt: int) -> None:
    with deps.db.transaction() as session:
        cancellation = session.get(Cancellation, job_id)
        if cancellation is None or cancellation.state != CancellationState.QUEUED:
            return
        code = cancellation.reason_code
        cancellation.attempts = attempt
    try:
        upstream = deps.spapi.get_service_job(job_id)
        if upstream.status == JobStatus.CANCELLED:
            _cancellation_done(deps, job_id, CancellationState.COMPLETED, None, upstream)
            return
        deps.spapi.cancel_service_job(job_id, code)
    except TRANSIENT as exc:
        raise RetryLater(str(exc)) from None
    except SpApiError as exc:
        upstream = _upstream_or_none(deps, job_id)
        if upstream is not None and upstream.status == JobStatus.CANCELLED:
            _cancellation_done(deps, job_id, CancellationState.COMPLETED, None, upstream)
            return
        reason = f"SP-API refused: {exc.message or exc}"
        _cancellation_done(deps, job_id, CancellationState.FAILED, reason, upstream)
        raise PermanentFailure(str(exc)) from None
    _cancellation_done(deps, job_id, CancellationState.COMPLETED, None, _upstream_or_none(deps, job_id))


def cancellation_failed(deps: Deps, job_id: str, reason: str) -> None:
    _cancellation_done(deps, job_id, CancellationState.FAILED, reason[:1000], None)


# A closure uploads its own missing documents, so in a backlog closures go first
# (priority 0, before uploads at 2): the scarce upload-destination budget is then
# spent on jobs in order, and fulfillment and completion calls run alongside
# instead of after every upload.
CLOSE_JOB = TaskKind("close_job", priority=0, run=close_job, give_up=closure_failed)
CANCEL_JOB = TaskKind("cancel_job", priority=0, run=cancel_job, give_up=cancellation_failed)
KINDS = (CLOSE_JOB, CANCEL_JOB)
