"""Shapes of closures, cancellations and the audit trail."""

from marshmallow import Schema, fields, validate

from techapi.closures.models import CancellationState, ClosureState

STATES = [s.value for s in ClosureState]


class EventSchema(Schema):
    action = fields.String(required=True)
    at = fields.DateTime(required=True, metadata={"description": "Server time"})
    deviceAt = fields.DateTime(allow_none=True, metadata={"description": "Device time, when one was sent"})
    actor = fields.String(required=True)
    source = fields.String(required=True)
    details = fields.Dict(required=True)


class HistorySchema(Schema):
    serviceJobId = fields.String(required=True)
    events = fields.List(fields.Nested(EventSchema), required=True)


class ClosureSchema(Schema):
    serviceJobId = fields.String(required=True)
    state = fields.String(required=True, metadata={"enum": STATES})
    requestedBy = fields.String(allow_none=True)
    requestedAt = fields.DateTime(required=True)
    decidedBy = fields.String(allow_none=True)
    decidedAt = fields.DateTime(allow_none=True)
    rejectionReason = fields.String(allow_none=True)
    failureReason = fields.String(allow_none=True)
    step = fields.String(required=True, metadata={"enum": ["NONE", "FULFILLMENT_SET"]})
    upstreamStatus = fields.String(allow_none=True, metadata={"description": "The job's status on SP-API"})
    completedAt = fields.DateTime(allow_none=True)
    history = fields.List(fields.Nested(EventSchema), required=True)


class EvidenceDocumentSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    contentType = fields.String(required=True)
    status = fields.String(required=True)
    size = fields.Integer(required=True)
    url = fields.String(required=True, metadata={"description": "Where to download it (same authentication)"})


class EvidenceSchema(Schema):
    start = fields.DateTime(allow_none=True, required=True)
    finish = fields.DateTime(allow_none=True, required=True)
    documents = fields.List(fields.Nested(EvidenceDocumentSchema), required=True)


class ClosureSummarySchema(Schema):
    serviceJobId = fields.String(required=True)
    state = fields.String(required=True, metadata={"enum": STATES})
    requestedBy = fields.String(allow_none=True)
    requestedAt = fields.DateTime(required=True)
    rejectionReason = fields.String(allow_none=True)
    failureReason = fields.String(allow_none=True)
    storeId = fields.String(allow_none=True)
    jobStatus = fields.String(required=True)
    appointmentStart = fields.DateTime(allow_none=True)
    customerName = fields.String(allow_none=True)
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
    serviceJobId = fields.String(required=True)
    reasonCode = fields.String(required=True)
    state = fields.String(required=True, metadata={"enum": [s.value for s in CancellationState]})
    requestedAt = fields.DateTime(required=True)
    failureReason = fields.String(allow_none=True)
