"""Shapes of an offline batch and of its answer."""

from typing import Any

from marshmallow import Schema, fields, post_dump, validate

from techapi.edge.times import Moment


class ActionSchema(Schema):
    idempotencyKey = fields.String(required=True, validate=validate.Length(1, 200))
    type = fields.String(required=True, validate=validate.OneOf(["start", "finish", "closure"]))
    serviceJobId = fields.String(required=True, validate=validate.Length(1, 100))
    at = Moment(metadata={"description": "Device time of the action (start, finish)"})


class BatchSchema(Schema):
    sentAt = Moment(required=True, metadata={"description": "The device's clock when it sent this"})
    actions = fields.List(fields.Nested(ActionSchema), required=True, validate=validate.Length(1, 100))


class ResultSchema(Schema):
    idempotencyKey = fields.String(required=True, attribute="idempotency_key")
    type = fields.String(required=True)
    serviceJobId = fields.String(required=True, attribute="service_job_id")
    status = fields.String(required=True, metadata={"enum": ["applied", "duplicate", "rejected"]})
    reason = fields.String()
    firstResult = fields.String(attribute="first_result",
                                metadata={"description": "For a duplicate: what happened the first time"})

    @post_dump
    def _omit_absent(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        # reason and firstResult are there only when they say something.
        return {k: v for k, v in data.items() if v is not None}


class ReplaySchema(Schema):
    receivedAt = fields.DateTime(required=True, attribute="received_at")
    clockSkewSeconds = fields.Float(required=True, attribute="clock_skew_seconds",
                                    metadata={"description": "Device clock minus server clock"})
    corrected = fields.Boolean(required=True, metadata={"description": "Times were corrected by the skew"})
    results = fields.List(fields.Nested(ResultSchema), required=True)
