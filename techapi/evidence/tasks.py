"""The background upload of one document to SP-API (a worker task)."""

from __future__ import annotations

import hashlib
import logging

from techapi.context import Deps
from techapi.evidence.documents import move_document
from techapi.evidence.models import Document, DocumentStatus
from techapi.evidence.upload import UploadFailed, UploadUrlRejected, upload_with_fresh_destinations
from techapi.queue.kinds import PermanentFailure, RetryLater, TaskKind
from techapi.spapi.errors import SpApiError, SpApiServerError, SpApiThrottled, SpApiTransportError

log = logging.getLogger(__name__)
PASSING = (UploadFailed, SpApiThrottled, SpApiServerError, SpApiTransportError)


def _start_attempt(deps: Deps, document_id: str, attempt: int) -> tuple[str, str, int] | None:
    """Mark the attempt; (content type, blob key, size), or None when there is nothing to do."""
    with deps.db.transaction() as session:
        doc = session.get(Document, document_id)
        if doc is None or doc.status == DocumentStatus.UPLOADED:
            return None  # deleted meanwhile, or already done
        if doc.status == DocumentStatus.FAILED:
            raise PermanentFailure(f"document {document_id} failed earlier: {doc.failure_reason}")
        move_document(session, doc, DocumentStatus.UPLOADING, deps.clock.now())
        doc.upload_attempts = attempt
        return doc.content_type, doc.normalised_key, doc.size


def _note_retry(deps: Deps, document_id: str, reason: str) -> None:
    with deps.db.transaction() as session:
        doc = session.get(Document, document_id)
        if doc is not None and doc.status == DocumentStatus.UPLOADING:
            move_document(session, doc, DocumentStatus.UPLOADING, deps.clock.now(), reason=f"retrying: {reason}")


def upload_document(deps: Deps, document_id: str, attempt: int) -> None:
    started = _start_attempt(deps, document_id, attempt)
    if started is None:
        return
    content_type, key, size = started
    data = deps.store.get_bytes(key)
    if len(data) != size:
        raise PermanentFailure("stored document does not match its recorded size")
    md5 = hashlib.md5(data).digest()
    try:
        result = upload_with_fresh_destinations(
            lambda: deps.spapi.create_upload_destination(content_type, len(data), md5),
            deps.upload_http, data, deps.upload_allowed_hosts)
    except UploadUrlRejected as exc:
        raise PermanentFailure(str(exc)) from None
    except PASSING as exc:
        reason = f"{type(exc).__name__}: {exc}"
        _note_retry(deps, document_id, reason)
        raise RetryLater(reason) from None
    except SpApiError as exc:
        raise PermanentFailure(str(exc)) from None
    with deps.db.transaction() as session:
        doc = session.get(Document, document_id)
        if doc is not None:
            doc.upload_destination_id, doc.content_sha256 = result.upload_destination_id, result.content_sha256
            move_document(session, doc, DocumentStatus.UPLOADED, deps.clock.now())


def document_failed(deps: Deps, document_id: str, reason: str) -> None:
    """The upload gave up: the document is FAILED with the reason, for a person to see."""
    with deps.db.transaction() as session:
        doc = session.get(Document, document_id)
        if doc is not None and doc.status in (DocumentStatus.RECEIVED, DocumentStatus.UPLOADING):
            move_document(session, doc, DocumentStatus.FAILED, deps.clock.now(), reason=reason)


UPLOAD_DOCUMENT = TaskKind("upload_document", priority=2, run=upload_document, give_up=document_failed)
KINDS = (UPLOAD_DOCUMENT,)
