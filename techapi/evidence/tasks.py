"""The background upload of one document to SP-API (a worker task)."""

from __future__ import annotations

import hashlib
import logging

from techapi import audit
from techapi.context import Deps
from techapi.evidence.models import Document, DocumentStatus
from techapi.evidence.upload import UploadFailed, UploadUrlRejected, upload_with_fresh_destinations
from techapi.spapi.errors import SpApiError, SpApiServerError, SpApiThrottled, SpApiTransportError
from techapi.worker.queue import PermanentFailure, RetryLater

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8


def backoff(deps: Deps, attempt: int) -> float:
    return min(600.0, deps.settings.task_backoff_seconds * 2 ** (attempt - 1))


def _set(deps: Deps, document_id: str, **values) -> None:
    with deps.db.session() as session:
        doc = session.get(Document, document_id)
        if doc is None:
            return
        for key, value in values.items():
            setattr(doc, key, value)
        if values.get("status") in (DocumentStatus.UPLOADED, DocumentStatus.FAILED):
            audit.record(session, doc.service_job_id, f"document.{values['status'].lower()}", deps.clock.now(),
                         "worker", source="worker",
                         details={"documentId": doc.id, **({"reason": values["failure_reason"]}
                                                           if values.get("failure_reason") else {})})
        session.commit()


def upload_document(deps: Deps, document_id: str, attempt: int) -> None:
    with deps.db.session() as session:
        doc = session.get(Document, document_id)
        if doc is None or doc.status == DocumentStatus.UPLOADED:
            return  # deleted meanwhile, or already done
        content_type, key, size = doc.content_type, doc.normalised_key, doc.size
        doc.status = DocumentStatus.UPLOADING
        doc.upload_attempts = attempt
        session.commit()
    data = deps.store.get_bytes(key)
    if len(data) != size:
        raise PermanentFailure("stored document does not match its recorded size")
    md5 = hashlib.md5(data).digest()
    try:
        result = upload_with_fresh_destinations(
            lambda: deps.spapi.create_upload_destination(content_type, len(data), md5),
            deps.upload_http, data, deps.upload_allowed_hosts)
    except UploadUrlRejected as exc:
        _set(deps, document_id, status=DocumentStatus.FAILED, failure_reason=str(exc))
        raise PermanentFailure(str(exc)) from None
    except (UploadFailed, SpApiThrottled, SpApiServerError, SpApiTransportError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
        if attempt >= MAX_ATTEMPTS:
            _set(deps, document_id, status=DocumentStatus.FAILED, failure_reason=reason[:500])
            raise PermanentFailure(reason) from None
        _set(deps, document_id, failure_reason=f"retrying: {reason}"[:500])
        raise RetryLater(reason, backoff(deps, attempt)) from None
    except SpApiError as exc:
        _set(deps, document_id, status=DocumentStatus.FAILED, failure_reason=str(exc)[:500])
        raise PermanentFailure(str(exc)) from None
    _set(deps, document_id, status=DocumentStatus.UPLOADED, failure_reason=None,
         upload_destination_id=result.upload_destination_id, content_sha256=result.content_sha256,
         uploaded_at=deps.clock.now())
