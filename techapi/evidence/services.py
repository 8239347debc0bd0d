"""Service entry points for times and documents: each owns its transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from techapi.audit.trail import Actor, record
from techapi.auth.models import User
from techapi.context import Deps
from techapi.db import end_read, transaction
from techapi.evidence import documents, times
from techapi.evidence.access import job_to_act_on, require_open
from techapi.evidence.models import Document, TimeKind, TimeRecord
from techapi.evidence.summary import evidence_of
from techapi.evidence.tasks import UPLOAD_DOCUMENT
from techapi.jobs import readiness
from techapi.jobs import services as jobs
from techapi.jobs.models import Job
from techapi.queue.outbox import enqueue


@dataclass(frozen=True)
class WorkTimes:
    service_job_id: str
    start: TimeRecord | None
    finish: TimeRecord | None
    still_needed: list[str]


def _work_times(session: Session, job: Job, min_photos: int) -> WorkTimes:
    start, finish = times.times_of(session, job.service_job_id)
    needed = readiness.still_needed(job.status, job.appointment_status, evidence_of(session, job.service_job_id),
                                    min_photos)
    return WorkTimes(job.service_job_id, start, finish, needed)


def work_times(deps: Deps, session: Session, user: User, job_id: str) -> WorkTimes:
    return _work_times(session, jobs.job_for(session, user, job_id), deps.settings.min_photos)


def record_work_time(deps: Deps, session: Session, user: User, job_id: str, kind: TimeKind,
                     given: times.TimeInput) -> WorkTimes:
    job = job_to_act_on(session, user, job_id)
    with transaction(session):
        times.record_time(session, job, Actor.user(user.username, user.id), kind, given, deps.clock.now(),
                          deps.evidence_lock)
    return _work_times(session, job, deps.settings.min_photos)


def add_document(deps: Deps, session: Session, user: User, job_id: str, f: BinaryIO, file_name: str | None,
                 kind: str, poa_type: str | None) -> tuple[Document, bool]:
    """Store a new document and queue its upload; the same bytes again as the same
    kind return the existing document (created=False) and are not sent twice (as
    another kind they are a new document: the photo of the signed paper may also be
    the POA). Everything that can refuse the file runs before anything is written."""
    job = job_to_act_on(session, user, job_id)
    require_open(session, job, deps.evidence_lock)
    documents.check_form(kind, poa_type)
    name = documents.clean_file_name(file_name)
    end_read(session)  # decoding a 12 MP photo takes a while; hold no transaction meanwhile
    prepared = documents.prepare(f, deps.settings.max_decoded_megapixels)
    now = deps.clock.now()
    doc = documents.new_document(job.service_job_id, kind, poa_type, name, prepared, user.id, now)
    try:
        with transaction(session):
            require_open(session, job, deps.evidence_lock)  # again: a closure may have been asked for meanwhile
            existing = documents.duplicate_of(session, job.service_job_id, kind, prepared.original_sha256)
            if existing is not None:
                return existing, False
            f.seek(0)
            deps.store.put_file(doc.original_key, f)
            deps.store.put_bytes(doc.normalised_key, prepared.normalised)
            session.add(doc)
            enqueue(session, UPLOAD_DOCUMENT, doc.id, now)
            record(session, job.service_job_id, "document.added", now, Actor.user(user.username, user.id),
                   details={"documentId": doc.id, "kind": kind, "type": prepared.content_type, "size": doc.size})
    except IntegrityError:
        # The same bytes arrived twice at once: the other request won.
        documents.delete_blobs(deps.store, doc)
        existing = documents.duplicate_of(session, job.service_job_id, kind, prepared.original_sha256)
        if existing is None:
            raise
        return existing, False
    except BaseException:
        documents.delete_blobs(deps.store, doc)
        raise
    return doc, True


def delete_document(deps: Deps, session: Session, user: User, job_id: str, document_id: str) -> None:
    job = job_to_act_on(session, user, job_id)
    with transaction(session):
        require_open(session, job, deps.evidence_lock)
        doc = documents.document_of(session, job.service_job_id, document_id)
        session.delete(doc)
        record(session, job.service_job_id, "document.removed", deps.clock.now(), Actor.user(user.username, user.id),
               details={"documentId": doc.id, "kind": doc.kind})
    documents.delete_blobs(deps.store, doc)


def documents_of(session: Session, user: User, job_id: str) -> list[Document]:
    return documents.documents_of(session, jobs.job_for(session, user, job_id).service_job_id)


def document_of(session: Session, user: User, job_id: str, document_id: str) -> Document:
    return documents.document_of(session, jobs.job_for(session, user, job_id).service_job_id, document_id)
