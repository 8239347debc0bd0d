"""Photos and POA documents: validated by content and normalised before anything
is written; the rows, their lookups and the upload state machine's one writer."""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from techapi.audit.trail import WORKER, record
from techapi.errors import NotFoundError, PayloadTooLarge, UnsupportedMediaType, ValidationError
from techapi.evidence import filetypes, images, pdf
from techapi.evidence.models import DOCUMENT, Document, DocumentKind, DocumentStatus
from techapi.spapi.plans import MAX_DOCUMENT_BYTES, POA_TYPES
from techapi.storage import BlobStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """A file that passed every check, ready to be stored."""

    detected: str
    original_size: int
    original_sha256: str
    normalised: bytes
    content_type: str
    width: int | None = None
    height: int | None = None
    captured_at: datetime | None = None
    gps: tuple[float, float] | None = None


def _file_error(message: str, detail: str) -> ValidationError:
    return ValidationError(message, errors={"files": {"file": [detail]}})


def clean_file_name(name: str | None) -> str | None:
    """A display name only; anything that looks like a path is refused."""
    if not name:
        return None
    name = unicodedata.normalize("NFC", name)
    if ("/" in name or "\\" in name or name in (".", "..") or name.startswith(".")
            or any(unicodedata.category(c).startswith("C") for c in name) or len(name) > 255):
        raise _file_error("Invalid file name", "must be a plain file name")
    return name


def check_form(kind: str, poa_type: str | None) -> None:
    if poa_type is not None and kind != DocumentKind.POA:
        raise ValidationError("poaType is only for POA documents", errors={"form": {"poaType": ["POA only"]}})
    if poa_type is not None and poa_type not in POA_TYPES:
        raise ValidationError("Unknown poaType", errors={"form": {"poaType": [f"one of {', '.join(POA_TYPES)}"]}})


def _size(f: BinaryIO) -> int:
    f.seek(0, io.SEEK_END)
    size = f.tell()
    f.seek(0)
    return size


def _sha256(f: BinaryIO) -> str:
    f.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: f.read(1024 * 1024), b""):
        digest.update(chunk)
    f.seek(0)
    return digest.hexdigest()


def prepare(f: BinaryIO, max_megapixels: int = images.DEFAULT_MAX_MEGAPIXELS) -> Prepared:
    """Detect the type from the bytes, refuse what is not allowed, normalise (an image
    over `max_megapixels` of decode budget is refused from its header)."""
    size = _size(f)
    if size == 0:
        raise _file_error("The file is empty", "empty")
    detected = filetypes.detect(f.read(32))
    if detected is None:
        raise UnsupportedMediaType("Only JPEG, PNG, HEIC/HEIF, TIFF, GIF and PDF files are accepted")
    if not filetypes.ends_cleanly(f, detected, size):
        raise _file_error(f"The {detected} file is truncated or carries data after its end",
                          "truncated or has trailing data")
    sha = _sha256(f)
    if detected == filetypes.PDF:
        if size > MAX_DOCUMENT_BYTES:
            raise PayloadTooLarge(f"The PDF is {size / 1_048_576:.1f} MiB; Amazon accepts at most 5 MiB. "
                                  "Rescan it at a lower resolution or in black and white")
        f.seek(0)
        try:
            cleaned = pdf.clean(f.read())
        except pdf.PdfRejected as exc:
            raise _file_error(str(exc), str(exc)) from None
        if len(cleaned.data) > MAX_DOCUMENT_BYTES:  # object streams unpacked by the rewrite
            raise PayloadTooLarge(f"Without its metadata the PDF is {len(cleaned.data) / 1_048_576:.1f} MiB; "
                                  "Amazon accepts at most 5 MiB. Rescan it at a lower resolution")
        return Prepared(detected, size, sha, cleaned.data, filetypes.PDF)
    try:
        image = images.normalise(f, detected, max_megapixels=max_megapixels)
    except images.ContentMismatch as exc:
        raise UnsupportedMediaType(str(exc)) from None
    except images.ImageRejected as exc:
        raise _file_error(str(exc), str(exc)) from None
    return Prepared(detected, size, sha, image.data, image.content_type, image.width, image.height,
                    image.captured_at, image.gps)


def new_document(job_id: str, kind: str, poa_type: str | None, name: str | None, prepared: Prepared,
                 user_id: int, now: datetime) -> Document:
    """The row for a prepared file (not yet added to a session)."""
    return Document(
        id=str(uuid.uuid4()), service_job_id=job_id, kind=kind, poa_type=poa_type,
        status=DocumentStatus.RECEIVED, file_name=name, detected_type=prepared.detected,
        content_type=prepared.content_type, original_size=prepared.original_size,
        original_sha256=prepared.original_sha256, size=len(prepared.normalised),
        sha256=hashlib.sha256(prepared.normalised).hexdigest(),
        md5_b64=base64.b64encode(hashlib.md5(prepared.normalised).digest()).decode(),
        width=prepared.width, height=prepared.height, captured_at=prepared.captured_at,
        gps_latitude=prepared.gps[0] if prepared.gps else None,
        gps_longitude=prepared.gps[1] if prepared.gps else None,
        upload_attempts=0, created_by=user_id, created_at=now,
    )


def move_document(session: Session, doc: Document, new: DocumentStatus, now: datetime,
                  reason: str | None = None) -> None:
    """The document state machine's one writer: check the move, keep the reason,
    stamp the upload time, and put the outcome on the job's audit trail."""
    doc.status = DOCUMENT.check(doc.status, new)
    if new == DocumentStatus.UPLOADED:
        doc.failure_reason, doc.uploaded_at = None, now
    elif reason is not None:
        doc.failure_reason = reason[:500]
    if new in (DocumentStatus.UPLOADED, DocumentStatus.FAILED):
        record(session, doc.service_job_id, f"document.{new.lower()}", now, WORKER,
               details={"documentId": doc.id, **({"reason": reason} if reason else {})})


def duplicate_of(session: Session, job_id: str, kind: str, original_sha256: str) -> Document | None:
    """The job's document of this kind with these original bytes, if there is one."""
    return session.scalar(select(Document).where(Document.service_job_id == job_id, Document.kind == kind,
                                                 Document.original_sha256 == original_sha256))


def documents_of(session: Session, job_id: str) -> list[Document]:
    return list(session.scalars(select(Document).where(Document.service_job_id == job_id)
                                .order_by(Document.created_at, Document.id)))


def document_of(session: Session, job_id: str, document_id: str) -> Document:
    doc = session.get(Document, document_id)
    if doc is None or doc.service_job_id != job_id:
        raise NotFoundError("Document not found")
    return doc


def delete_blobs(store: BlobStore, doc: Document) -> None:
    for key in (doc.original_key, doc.normalised_key, doc.thumbnail_key):
        try:
            store.delete(key)
        except Exception:  # noqa: BLE001 - best effort clean-up; the orphan is logged
            log.warning("could not delete blob %s", key)
