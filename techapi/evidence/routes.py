"""Start and finish times, photos and POA documents of a job."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

from flask import Response, request, send_file
from flask.views import MethodView
from flask_smorest import Blueprint

from techapi.apidoc import error_answers
from techapi.auth.guard import current_user, login_required
from techapi.context import deps
from techapi.db import get_session
from techapi.evidence import documents, times
from techapi.evidence.access import job_to_act_on
from techapi.evidence.models import Document, TimeKind, TimeRecord
from techapi.evidence.schemas import (
    DocumentFileSchema,
    DocumentFormSchema,
    DocumentListSchema,
    DocumentSchema,
    TimeInputSchema,
    WorkTimesSchema,
)
from techapi.evidence.summary import evidence_for
from techapi.idempotency import PARAMETER as IDEMPOTENCY_KEY
from techapi.jobs import readiness
from techapi.jobs import services as jobs
from techapi.jobs.models import Job

blp = Blueprint("evidence", __name__, url_prefix="/v1/jobs", description="Times and documents")
answers = error_answers(blp, {
    401: "Missing or invalid token", 403: "Not a technician", 404: "No such job, or not yours",
    409: "The job is no longer open", 413: "Body over TECHAPI_MAX_UPLOAD_MB, or a PDF over 5 MiB",
    415: "Not JPEG, PNG, HEIC/HEIF, TIFF, GIF or PDF",
})
MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "TIFF": "image/tiff", "PDF": "application/pdf"}


def _record(rec: TimeRecord | None) -> dict[str, Any] | None:
    if rec is None:
        return None
    device = None
    if rec.device_at is not None and rec.device_offset_minutes is not None:
        device = rec.device_at.astimezone(timezone(timedelta(minutes=rec.device_offset_minutes))).isoformat()
    return {"at": rec.at, "deviceAt": device, "receivedAt": rec.received_at, "source": rec.source,
            "version": rec.version}


def _times(job: Job, work: times.WorkTimes) -> dict[str, Any]:
    evidence = evidence_for(get_session(), [job.service_job_id])[job.service_job_id]
    return {"serviceJobId": job.service_job_id, "start": _record(work.start), "finish": _record(work.finish),
            "stillNeeded": readiness.still_needed(job.status, job.appointment_status, evidence,
                                                  deps().settings.min_photos)}


def _doc(doc: Document) -> dict[str, Any]:
    return {
        "id": doc.id, "serviceJobId": doc.service_job_id, "kind": doc.kind, "poaType": doc.poa_type,
        "fileName": doc.file_name, "detectedType": doc.detected_type, "contentType": doc.content_type,
        "originalSize": doc.original_size, "size": doc.size, "sha256": doc.sha256, "width": doc.width,
        "height": doc.height, "capturedAt": doc.captured_at, "status": doc.status,
        "failureReason": doc.failure_reason, "uploadedAt": doc.uploaded_at, "createdAt": doc.created_at,
    }


def _record_time(kind: TimeKind, body: dict[str, Any], service_job_id: str) -> dict[str, Any]:
    session, user = get_session(), current_user()
    job = job_to_act_on(session, user, service_job_id)
    given = times.TimeInput(device_at=body.get("at"), version=body.get("version"))
    work = times.record_time(session, job, user, kind, given, deps().clock.now())
    return _times(job, work)


@blp.route("/<string:serviceJobId>/start")
class Start(MethodView):
    @login_required()
    @blp.arguments(TimeInputSchema)
    @blp.response(200, WorkTimesSchema)
    @answers(401, 403, 404, 409)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body: dict[str, Any], serviceJobId: str) -> dict[str, Any]:
        """Record when the work started (again with the same time: no change)"""
        return _record_time(TimeKind.START, body, serviceJobId)


@blp.route("/<string:serviceJobId>/finish")
class Finish(MethodView):
    @login_required()
    @blp.arguments(TimeInputSchema)
    @blp.response(200, WorkTimesSchema)
    @answers(401, 403, 404, 409, e409="Not started, or the job is no longer open")
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body: dict[str, Any], serviceJobId: str) -> dict[str, Any]:
        """Record when the work finished"""
        return _record_time(TimeKind.FINISH, body, serviceJobId)


@blp.route("/<string:serviceJobId>/times")
class Times(MethodView):
    @login_required()
    @blp.response(200, WorkTimesSchema)
    @answers(401, 404)
    def get(self, serviceJobId: str) -> dict[str, Any]:
        """The recorded start and finish"""
        session = get_session()
        job = jobs.job_for(session, current_user(), serviceJobId)
        return _times(job, times.times_of(session, job.service_job_id))


@blp.route("/<string:serviceJobId>/documents")
class Documents(MethodView):
    @login_required()
    @blp.response(200, DocumentListSchema)
    @answers(401, 404)
    def get(self, serviceJobId: str) -> dict[str, Any]:
        """The job's photos and POA documents with their upload status"""
        session = get_session()
        job = jobs.job_for(session, current_user(), serviceJobId)
        return {"documents": [_doc(d) for d in documents.documents_of(session, job.service_job_id)]}

    @login_required()
    @blp.arguments(DocumentFormSchema, location="form")
    @blp.arguments(DocumentFileSchema, location="files")
    @blp.response(201, DocumentSchema)
    @blp.alt_response(200, schema=DocumentSchema, description="The same bytes were already uploaded to this job")
    @answers(401, 403, 404, 409, 413, 415)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, form: dict[str, Any], files: dict[str, Any], serviceJobId: str) -> Response:
        """Add a photo or POA document (multipart: file, kind, poaType)"""
        session, user = get_session(), current_user()
        job = job_to_act_on(session, user, serviceJobId)
        upload = files["file"]
        doc, created = documents.add_document(
            session, deps().store, job, user, upload.stream, upload.filename, form["kind"],
            form.get("poaType"), deps().clock.now())
        return _doc(doc), 201 if created else 200


@blp.route("/<string:serviceJobId>/documents/<string:documentId>")
class DocumentById(MethodView):
    @login_required()
    @blp.response(200, DocumentSchema)
    @answers(401, 404, e404="No such job or document, or not yours")
    def get(self, serviceJobId: str, documentId: str) -> dict[str, Any]:
        """One document's metadata and upload status"""
        session = get_session()
        job = jobs.job_for(session, current_user(), serviceJobId)
        return _doc(documents.document_of(session, job.service_job_id, documentId))

    @login_required()
    @blp.response(204)
    @answers(401, 403, 404, 409, e404="No such job or document, or not yours")
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def delete(self, serviceJobId: str, documentId: str) -> None:
        """Remove a document before the job is closed"""
        session, user = get_session(), current_user()
        job = job_to_act_on(session, user, serviceJobId)
        documents.delete_document(session, deps().store, job, user, documentId, deps().clock.now())


@blp.route("/<string:serviceJobId>/documents/<string:documentId>/content")
class DocumentContent(MethodView):
    @login_required()
    @blp.response(200, content_type="application/octet-stream",
                  description="The bytes sent to Amazon (normalised, without GPS)")
    @answers(401, 404, e404="No such job or document, or not yours")
    def get(self, serviceJobId: str, documentId: str) -> Response:
        """Download a document as it is sent to Amazon"""
        session = get_session()
        job = jobs.job_for(session, current_user(), serviceJobId)
        doc = documents.document_of(session, job.service_job_id, documentId)
        stream = deps().store.open(doc.normalised_key)
        return send_file(stream, mimetype=MIME[doc.content_type], download_name=f"{doc.id}.{doc.content_type.lower()}")


def limit_upload_size() -> None:
    """Uploads may be larger than the 1 MiB JSON limit; refused (413) before the body is read."""
    if request.endpoint == "evidence.Documents" and request.method == "POST":
        request.max_content_length = deps().settings.max_upload_mb * 1024 * 1024
