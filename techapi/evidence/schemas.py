"""Shapes of times and documents."""

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from techapi.edge.times import Moment
from techapi.evidence.models import DocumentKind, DocumentStatus
from techapi.spapi.plans import POA_TYPES


class TimeInputSchema(Schema):
    at = Moment(
        metadata={"description": "When it happened, ISO 8601 with a UTC offset; absent = now (server time). "
                                 "Send it on every retry so a retry is idempotent."})
    version = fields.Integer(
        validate=validate.Range(min=1),
        metadata={"description": "To change a recorded time: the version you are replacing (409 otherwise)"})


class TimeRecordSchema(Schema):
    at = fields.DateTime(required=True, metadata={"description": "The recorded time, UTC"})
    deviceAt = fields.String(allow_none=True, attribute="device_at_as_sent",
                             metadata={"description": "As the device sent it, with its offset"})
    receivedAt = fields.DateTime(required=True, attribute="received_at",
                                 metadata={"description": "When the server received it"})
    source = fields.String(required=True, metadata={"enum": ["api", "field_app", "offline"]})
    version = fields.Integer(required=True)


class WorkTimesSchema(Schema):
    serviceJobId = fields.String(required=True, attribute="service_job_id")
    start = fields.Nested(TimeRecordSchema, allow_none=True, required=True)
    finish = fields.Nested(TimeRecordSchema, allow_none=True, required=True)
    stillNeeded = fields.List(fields.String(), required=True, attribute="still_needed")


class DocumentFormSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in DocumentKind]))
    poaType = fields.String(validate=validate.OneOf(POA_TYPES),
                            metadata={"description": "For POA documents: the model's Poa.poaType"})


class DocumentFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "JPEG, PNG, HEIC/HEIF, TIFF, GIF or PDF"})


class DocumentSchema(Schema):
    id = fields.String(required=True)
    serviceJobId = fields.String(required=True, attribute="service_job_id")
    kind = fields.String(required=True, metadata={"enum": [k.value for k in DocumentKind]})
    poaType = fields.String(allow_none=True, attribute="poa_type")
    fileName = fields.String(allow_none=True, attribute="file_name")
    detectedType = fields.String(required=True, attribute="detected_type",
                                 metadata={"description": "What the bytes are"})
    contentType = fields.String(required=True, attribute="content_type",
                                metadata={"description": "What is sent to Amazon"})
    originalSize = fields.Integer(required=True, attribute="original_size")
    size = fields.Integer(required=True, metadata={"description": "Bytes sent to Amazon"})
    sha256 = fields.String(required=True, metadata={"description": "SHA-256 (hex) of the bytes sent"})
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)
    capturedAt = fields.DateTime(allow_none=True, attribute="captured_at",
                                 metadata={"description": "From the photo's EXIF"})
    status = fields.String(required=True, metadata={"enum": [s.value for s in DocumentStatus]})
    failureReason = fields.String(allow_none=True, attribute="failure_reason")
    uploadedAt = fields.DateTime(allow_none=True, attribute="uploaded_at")
    createdAt = fields.DateTime(required=True, attribute="created_at")


class DocumentListSchema(Schema):
    documents = fields.List(fields.Nested(DocumentSchema), required=True)
