"""Receiving photos and POA documents: validate by content, normalise, store, queue the upload.

Everything that can refuse a file runs before anything is written, so a refused
upload leaves nothing in the database or the blob store.
"""

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
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from techapi import audit
from techapi.auth.models import User
from techapi.errors import DomainError, NotFoundError, ValidationError
from techapi.evidence import filetypes, images
from techapi.evidence.access import require_open
from techapi.evidence.models import Document, DocumentKind, DocumentStatus
from techapi.jobs.models import Job
from techapi.spapi.plans import MAX_DOCUMENT_BYTES, POA_TYPES
from techapi.storage import BlobStore
from techapi.worker.queue import enqueue

log = logging.getLogger(__name__)
UPLOAD_TASK = "upload_document"


class UnsupportedMediaType(DomainError):
    status = 415


class TooLarge(DomainError):
    status = 413


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


def clean_file_name(name: str | None) -> str | None:
    """A display name only; anything that looks like a path is refused."""
    if not name:
        return None
    name = unicodedata.normalize("NFC", name)
    if ("/" in name or "\\" in name or name in (".", "..") or name.startswith(".")
            or any(unicodedata.category(c).startswith("C") for c in name) or len(name) > 255):
        raise ValidationError("Invalid file name", errors={"files": {"file": ["must be a plain file name"]}})
    return name


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


def prepare(f: BinaryIO) -> Prepared:
    """Detect the type from the bytes, refuse what is not allowed, normalise."""
    size = _size(f)
    if size == 0:
        raise ValidationError("The file is empty", errors={"files": {"file": ["empty"]}})
    detected = filetypes.detect(f.read(32))
    if detected is None:
        raise UnsupportedMediaType("Only JPEG, PNG, HEIC/HEIF, TIFF, GIF and PDF files are accepted")
    if not filetypes.ends_cleanly(f, detected, size):
        raise ValidationError(f"The {detected} file is truncated or carries data after its end",
                              errors={"files": {"file": ["truncated or has trailing data"]}})
    sha = _sha256(f)
    if detected == filetypes.PDF:
        if size > MAX_DOCUMENT_BYTES:
            raise TooLarge(f"The PDF is {size / 1_048_576:.1f} MiB; Amazon accepts at most 5 MiB. "
                           "Rescan it at a lower resolution or in black and white")
        f.seek(0)
        return Prepared(detected, size, sha, f.read(), filetypes.PDF)
    try:
        image = images.normalise(f, detected)
    except images.ImageRejected as exc:
        if exc.status == 415:
            raise UnsupportedMediaType(exc.message) from None
        raise ValidationError(exc.message, errors={"files": {"file": [exc.message]}}) from None
    return Prepared(detected, size, sha, image.data, image.content_type, image.width, image.height,
                    image.captured_at, image.gps)


def add_document(
    session: Session, store: BlobStore, job: Job, user: User, f: BinaryIO, file_name: str | None,
    kind: str, poa_type: str | None, now: datetime,
) -> tuple[Document, bool]:
    """Store a new document and queue its upload; the same bytes again return the
    existing document (created=False) and are not sent twice."""
    require_open(session, job)
    # Release the read transaction while the file is decoded: on SQLite it holds
    # the write lock, and decoding a 12 MP photo takes a while.
    session.commit()
    if poa_type is not None and kind != DocumentKind.POA:
        raise ValidationError("poaType is only for POA documents", errors={"form": {"poaType": ["POA only"]}})
    if poa_type is not None and poa_type not in POA_TYPES:
        raise ValidationError("Unknown poaType", errors={"form": {"poaType": [f"one of {', '.join(POA_TYPES)}"]}})
    name = clean_file_name(file_name)
    prepared = prepare(f)
    require_open(session, job)  # again: a closure may have been asked for meanwhile
    existing = _duplicate(session, job.service_job_id, prepared.original_sha256)
    if existing is not None:
        return existing, False
    doc = Document(
        id=str(uuid.uuid4()), service_job_id=job.service_job_id, kind=kind, poa_type=poa_type,
        status=DocumentStatus.RECEIVED, file_name=name, detected_type=prepared.detected,
        content_type=prepared.content_type, original_size=prepared.original_size,
        original_sha256=prepared.original_sha256, size=len(prepared.normalised),
        sha256=hashlib.sha256(prepared.normalised).hexdigest(),
        md5_b64=base64.b64encode(hashlib.md5(prepared.normalised).digest()).decode(),
        width=prepared.width, height=prepared.height, captured_at=prepared.captured_at,
        gps_latitude=prepared.gps[0] if prepared.gps else None,
        gps_longitude=prepared.gps[1] if prepared.gps else None,
        upload_attempts=0, created_by=user.id, created_at=now,
    )
    f.seek(0)
    try:
        store.put_file(doc.original_key, f)
        store.put_bytes(doc.normalised_key, prepared.normalised)
        session.add(doc)
        enqueue(session, UPLOAD_TASK, doc.id, now)
        audit.record(session, job.service_job_id, "document.added", now, user.username, actor_user_id=user.id,
                     details={"documentId": doc.id, "kind": kind, "type": prepared.content_type, "size": doc.size})
        session.commit()
    except IntegrityError:
        # The same bytes arrived twice at once: the other request won.
        session.rollback()
        _delete_blobs(store, doc)
        existing = _duplicate(session, job.service_job_id, prepared.original_sha256)
        if existing is None:
            raise
        return existing, False
    except BaseException:
        session.rollback()
        _delete_blobs(store, doc)
        raise
    return doc, True


def _duplicate(session: Session, job_id: str, original_sha256: str) -> Document | None:
    return session.scalar(select(Document).where(Document.service_job_id == job_id,
                                                 Document.original_sha256 == original_sha256))


def _delete_blobs(store: BlobStore, doc: Document) -> None:
    for key in (doc.original_key, doc.normalised_key):
        try:
            store.delete(key)
        except Exception:  # noqa: BLE001 - best effort clean-up; the orphan is logged
            log.warning("could not delete blob %s", key)


def documents_of(session: Session, job_id: str) -> list[Document]:
    return list(session.scalars(select(Document).where(Document.service_job_id == job_id)
                                .order_by(Document.created_at, Document.id)))


def document_of(session: Session, job_id: str, document_id: str) -> Document:
    doc = session.get(Document, document_id)
    if doc is None or doc.service_job_id != job_id:
        raise NotFoundError("Document not found")
    return doc


def delete_document(session: Session, store: BlobStore, job: Job, user: User, document_id: str,
                    now: datetime) -> None:
    require_open(session, job)
    doc = document_of(session, job.service_job_id, document_id)
    session.delete(doc)
    audit.record(session, job.service_job_id, "document.removed", now, user.username, actor_user_id=user.id,
                 details={"documentId": doc.id, "kind": doc.kind})
    session.commit()
    _delete_blobs(store, doc)
