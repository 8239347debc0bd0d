"""Start and finish times, photos and POA documents of a job."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from techapi.apidoc import error_answers
from techapi.auth.guard import current_user, login_required
from techapi.conditional import NOT_MODIFIED, conditional_get
from techapi.context import deps
from techapi.db import get_session
from techapi.errors import ValidationError
from techapi.evidence import services, thumbnails
from techapi.evidence.content import content_response, thumbnail_response
from techapi.evidence.models import Document, TimeKind
from techapi.evidence.schemas import (
    DocumentFileSchema,
    DocumentFormSchema,
    DocumentListSchema,
    DocumentSchema,
    TimeInputSchema,
    WorkTimesSchema,
)
from techapi.evidence.times import TimeInput
from techapi.idempotency.decorator import idempotent
from techapi.jobs import versions

blp = Blueprint("evidence", __name__, url_prefix="/v1/jobs", description="Times and documents")
answers = error_answers(blp, {
    403: "Not a technician", 409: "The job is no longer open",
    413: "Body over TECHAPI_MAX_UPLOAD_MB, or a PDF over 5 MiB", 415: "Not JPEG, PNG, HEIC/HEIF, TIFF, GIF or PDF",
})
NO_DOCUMENT = "No such job or document, or not yours"
etag = conditional_get(blp)


def _record(kind: TimeKind, body: dict[str, Any], service_job_id: str) -> services.WorkTimes:
    given = TimeInput(device_at=body.get("at"), version=body.get("version"))
    return services.record_work_time(deps(), get_session(), current_user(), service_job_id, kind, given)


@blp.route("/<string:serviceJobId>/start")
class Start(MethodView):
    @blp.doc(operationId="recordStart")
    @login_required()
    @idempotent
    @blp.arguments(TimeInputSchema)
    @blp.response(200, WorkTimesSchema)
    @answers(401, 403, 404, 409)
    def post(self, body: dict[str, Any], serviceJobId: str) -> services.WorkTimes:
        """Record when the work started (again with the same time: no change)

        Record when the work started: `at` as an ISO 8601 time with its offset, or the server's time when absent.
        The device's time is kept beside the server's. Sending the same time again changes nothing.
        """
        return _record(TimeKind.START, body, serviceJobId)


@blp.route("/<string:serviceJobId>/finish")
class Finish(MethodView):
    @blp.doc(operationId="recordFinish")
    @login_required()
    @idempotent
    @blp.arguments(TimeInputSchema)
    @blp.response(200, WorkTimesSchema)
    @answers(401, 403, 404, 409, e409="Not started, or the job is no longer open")
    def post(self, body: dict[str, Any], serviceJobId: str) -> services.WorkTimes:
        """Record when the work finished

        Record when the work finished, after the start: `at` as an ISO 8601 time with its offset, or the server's
        time when absent.
        """
        return _record(TimeKind.FINISH, body, serviceJobId)


@blp.route("/<string:serviceJobId>/times")
class Times(MethodView):
    @blp.doc(operationId="getTimes")
    @login_required()
    @blp.response(200, WorkTimesSchema)
    @answers(401, 404)
    def get(self, serviceJobId: str) -> services.WorkTimes:
        """The recorded start and finish

        The job's recorded start and finish, each as recorded (UTC), as the device sent it (with its offset),
        when the server received it and where it came from (api, field_app, offline).
        """
        return services.work_times(deps(), get_session(), current_user(), serviceJobId)


def _documents_parts(serviceJobId: str) -> tuple[object, ...]:
    user = current_user()
    return ("documents", versions.caller(user, deps().settings.timezone), serviceJobId,
            versions.version_of(get_session(), user, serviceJobId))


@blp.route("/<string:serviceJobId>/documents")
class Documents(MethodView):
    @blp.doc(operationId="listDocuments")
    @login_required()
    @blp.response(200, DocumentListSchema)
    @answers(401, 404)
    @etag(_documents_parts)
    def get(self, serviceJobId: str) -> dict[str, list[Document]]:
        """The job's photos and POA documents with their upload status

        The job's photos and proof-of-appointment documents, each with its upload status: RECEIVED, UPLOADING,
        UPLOADED, or FAILED with the reason (replace it).
        """
        return {"documents": services.documents_of(get_session(), current_user(), serviceJobId)}

    @blp.doc(operationId="uploadDocument")
    @login_required()
    @idempotent
    @blp.arguments(DocumentFormSchema, location="form")
    @blp.arguments(DocumentFileSchema, location="files")
    @blp.response(201, DocumentSchema)
    @blp.alt_response(200, schema=DocumentSchema,
                      description="The same bytes were already uploaded to this job as this kind")
    @answers(401, 403, 404, 409, 413, 415)
    def post(self, form: dict[str, Any], files: dict[str, Any], serviceJobId: str) -> tuple[Document, int]:
        """Add a photo or POA document (multipart: one file part, kind, poaType)

        Multipart with one `file` part (JPEG, PNG, HEIC, GIF, TIFF or PDF, checked by content), `kind` (PHOTO or
        POA) and, for a POA, `poaType`. Images are normalised and stripped of metadata. 201 for a new document; 200
        with the existing one for the same bytes of the same kind.
        """
        if len(request.files.getlist("file")) > 1:
            # Which one the technician meant is not ours to guess.
            raise ValidationError("Send one file per upload: the form has more than one file part",
                                  errors={"files": {"file": ["exactly one file part"]}})
        upload = files["file"]
        doc, created = services.add_document(deps(), get_session(), current_user(), serviceJobId, upload.stream,
                                             upload.filename, form["kind"], form.get("poaType"))
        return doc, 201 if created else 200


@blp.route("/<string:serviceJobId>/documents/<string:documentId>")
class DocumentById(MethodView):
    @blp.doc(operationId="getDocument")
    @login_required()
    @blp.response(200, DocumentSchema)
    @answers(401, 404, e404=NO_DOCUMENT)
    def get(self, serviceJobId: str, documentId: str) -> Document:
        """One document's metadata and upload status

        One document's metadata (kind, type, size, dimensions, digest) and upload status.
        """
        return services.document_of(get_session(), current_user(), serviceJobId, documentId)

    @blp.doc(operationId="deleteDocument")
    @login_required()
    @idempotent
    @blp.response(204)
    @answers(401, 403, 404, 409, e404=NO_DOCUMENT)
    def delete(self, serviceJobId: str, documentId: str) -> None:
        """Remove a document before the job is closed

        The assigned technician removes a document while the job is still open; a closed job keeps its evidence.
        """
        services.delete_document(deps(), get_session(), current_user(), serviceJobId, documentId)


@blp.route("/<string:serviceJobId>/documents/<string:documentId>/content")
class DocumentContent(MethodView):
    @blp.doc(operationId="getDocumentContent")
    @login_required()
    @blp.response(200, content_type="application/octet-stream",
                  description="The bytes sent to Amazon (normalised, without GPS or metadata). "
                              "JPEG and PNG inline, GIF, TIFF and PDF as an attachment; always nosniff")
    @answers(401, 404, 409, e404=NO_DOCUMENT, e409="The document's file is no longer in the blob store")
    def get(self, serviceJobId: str, documentId: str) -> Response:
        """Download a document as it is sent to Amazon

        The bytes as they are sent to Amazon, with their own media type. JPEG and PNG inline, GIF, TIFF and PDF as
        attachments; always `X-Content-Type-Options: nosniff` and a sandboxing Content-Security-Policy.
        """
        doc = services.document_of(get_session(), current_user(), serviceJobId, documentId)
        return content_response(deps().store, doc)


@blp.route("/<string:serviceJobId>/documents/<string:documentId>/thumbnail")
class DocumentThumbnail(MethodView):
    @blp.doc(operationId="getDocumentThumbnail", responses={"200": {
        "description": "A JPEG of at most 320 px on its long side, aspect kept, without metadata; "
                       "a PDF's is a generic page icon",
        "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}}})
    @login_required()
    @blp.response(200, content_type="image/jpeg")
    @blp.alt_response(304, description=NOT_MODIFIED)
    @answers(401, 404, 409, e404=NO_DOCUMENT, e409="The document's file is no longer stored or cannot be decoded")
    def get(self, serviceJobId: str, documentId: str) -> Response:
        """A small JPEG preview of a document, for lists

        A JPEG of at most 320 px on its long side (aspect kept, no metadata), made once from the normalised
        image; a PDF gets a generic page icon. Whoever may download the content may see it. Strong `ETag`,
        `Cache-Control: private, max-age=86400, immutable`: a document's bytes never change.
        """
        thumb = thumbnails.thumbnail_of(get_session(), current_user(), serviceJobId, documentId)
        return thumbnail_response(deps(), thumb)


def limit_upload_size() -> None:
    """Uploads may be larger than the 1 MiB JSON limit; refused (413) before the body is read."""
    if request.endpoint == "evidence.Documents" and request.method == "POST":
        request.max_content_length = deps().settings.max_upload_mb * 1024 * 1024
