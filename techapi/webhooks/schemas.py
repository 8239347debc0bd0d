"""Shapes of field-app events and of our acknowledgement."""

from marshmallow import Schema, fields


class AckSchema(Schema):
    status = fields.String(required=True, metadata={"enum": ["accepted", "duplicate", "ignored"]})
    webhookId = fields.String(required=True, attribute="webhook_id")


class WebhookEventDataSchema(Schema):
    serviceJobId = fields.String(required=True)
    technicianId = fields.String(required=True)
    at = fields.String(metadata={"description": "ISO 8601 with offset (job.started, job.finished)"})


class WebhookEventSchema(Schema):
    type = fields.String(required=True, metadata={"description": "job.started, job.finished, job.closure_requested"})
    timestamp = fields.String(required=True)
    data = fields.Nested(WebhookEventDataSchema, required=True)


HEADERS = [
    {"in": "header", "name": name, "required": True, "schema": {"type": "string"}, "description": text}
    for name, text in (("webhook-id", "Unique per event; a redelivery repeats it"),
                       ("webhook-timestamp", "Unix seconds; refused when more than 5 minutes off"),
                       ("webhook-signature", "v1,<base64 HMAC-SHA256 of id.timestamp.body>; several may be "
                                             "given, separated by spaces"))
]
