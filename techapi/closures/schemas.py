"""Shapes of closures, cancellations and the audit trail."""

from marshmallow import Schema, fields, validate

from techapi.closures.models import CancellationState, ClosureState, ClosureStep

STATES = [s.value for s in ClosureState]


class EventSchema(Schema):
    action = fields.String(required=True)
    at = fields.DateTime(required=True, metadata={"description": "Server time"})
    deviceAt = fields.DateTime(allow_none=True, attribute="device_at",
                               metadata={"description": "Device time, when one was sent"})
    actor = fields.String(required=True)
    source = fields.String(required=True)
    details = fields.Dict(required=True)


class HistorySchema(Schema):
    serviceJobId = fields.String(required=True, attribute="service_job_id")
    events = fields.List(fields.Nested(EventSchema), required=True)


class ClosureRequestSchema(Schema):
    """What every view of a closure shows: the request and how it stands."""

    serviceJobId = fields.String(required=True, attribute="service_job_id")
    state = fields.String(required=True, metadata={"enum": STATES})
    requestedBy = fields.String(allow_none=True, attribute="requested_by_name")
    requestedAt = fields.DateTime(required=True, attribute="requested_at")
    rejectionReason = fields.String(allow_none=True, attribute="rejection_reason")
    failureReason = fields.String(allow_none=True, attribute="failure_reason")


class ClosureSchema(ClosureRequestSchema):
    decidedBy = fields.String(allow_none=True, attribute="decided_by_name")
    decidedAt = fields.DateTime(allow_none=True, attribute="decided_at")
    step = fields.String(required=True, metadata={"enum": [s.value for s in ClosureStep]})
    upstreamStatus = fields.String(allow_none=True, attribute="upstream_status",
                                   metadata={"description": "The job's status on SP-API"})
    completedAt = fields.DateTime(allow_none=True, attribute="completed_at")
    history = fields.List(fields.Nested(EventSchema), required=True)


class EvidenceDocumentSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    contentType = fields.String(required=True, attribute="content_type")
    status = fields.String(required=True)
    size = fields.Integer(required=True)
    url = fields.String(required=True, attribute="content_url",
                        metadata={"description": "Where to download it (same authentication)"})


class EvidenceSchema(Schema):
    start = fields.DateTime(allow_none=True, required=True)
    finish = fields.DateTime(allow_none=True, required=True)
    documents = fields.List(fields.Nested(EvidenceDocumentSchema), required=True)


class ClosureSummarySchema(ClosureRequestSchema):
    """One row of the closure list (closures.queries.ClosureSummary): the closure and its job."""

    storeId = fields.String(allow_none=True, attribute="job.store_id")
    jobStatus = fields.String(required=True, attribute="job.status")
    appointmentStart = fields.DateTime(allow_none=True, attribute="job.appointment_start")
    customerName = fields.String(allow_none=True, attribute="job.customer_name")
    address = fields.String(allow_none=True)
    technicians = fields.List(fields.String(), required=True)
    evidence = fields.Nested(EvidenceSchema, required=True)


class ClosureListSchema(Schema):
    closures = fields.List(fields.Nested(ClosureSummarySchema), required=True)


class ClosureQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(STATES))


class RejectSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 500))


class CancelSchema(Schema):
    reasonCode = fields.String(required=True, validate=validate.Regexp(r"^[A-Z0-9_]{1,10}$"),
                               metadata={"description": "A code of the guide's cancellation table for the "
                                                        "job's marketplace (US: S1, S3, S13-S17)"})


class CancellationSchema(Schema):
    serviceJobId = fields.String(required=True, attribute="service_job_id")
    reasonCode = fields.String(required=True, attribute="reason_code")
    state = fields.String(required=True, metadata={"enum": [s.value for s in CancellationState]})
    requestedAt = fields.DateTime(required=True, attribute="requested_at")
    failureReason = fields.String(allow_none=True, attribute="failure_reason")
