"""POST /v1/webhooks/field-app: verify, store, acknowledge; the worker applies."""

from __future__ import annotations

import json
from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy.exc import IntegrityError

from techapi.context import deps
from techapi.db import get_session
from techapi.errors import DomainError, ErrorSchema, ValidationError
from techapi.webhooks.models import WebhookEvent
from techapi.webhooks.processing import KNOWN
from techapi.webhooks.signature import WebhookRejected, decode_secret, verify
from techapi.worker.queue import enqueue

blp = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks", description="Field-app callbacks")
TASK = "webhook_event"


class WebhookError(DomainError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class AckSchema(Schema):
    status = fields.String(required=True, metadata={"enum": ["accepted", "duplicate", "ignored"]})
    webhookId = fields.String(required=True)


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


def _parse(body: bytes) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookError(400, "The body is not UTF-8") from None
    try:
        event = json.loads(text)
    except ValueError:
        raise WebhookError(400, "The body is not valid JSON") from None
    if not isinstance(event, dict) or not isinstance(event.get("type"), str) or not event["type"]:
        raise ValidationError("An event is a JSON object with a type", errors={"json": {"type": ["required"]}})
    if event["type"] in KNOWN and not isinstance(event.get("data"), dict):
        raise ValidationError("The event has no data object", errors={"json": {"data": ["required"]}})
    return event


@blp.route("/field-app")
class FieldApp(MethodView):
    @blp.response(202, AckSchema)
    @blp.alt_response(200, schema=AckSchema, description="This webhook-id was received before")
    @blp.alt_response(400, schema=ErrorSchema, description="Malformed headers or body")
    @blp.alt_response(401, schema=ErrorSchema, description="Signature or timestamp not valid")
    @blp.alt_response(422, schema=ErrorSchema, description="Not an event")
    @blp.doc(parameters=HEADERS,
             requestBody={"required": True, "content": {"application/json": {"schema": WebhookEventSchema}}})
    def post(self) -> Any:
        """Receive a field-app event (Standard Webhooks signatures)"""
        d = deps()
        body = request.get_data(cache=False)
        keys = [decode_secret(s.reveal()) for s in d.settings.webhook_secrets]
        try:
            webhook_id, _ = verify(request.headers, body, keys, int(d.clock.now().timestamp()))
        except WebhookRejected as exc:
            raise WebhookError(exc.status, exc.message) from None
        session = get_session()
        if session.get(WebhookEvent, webhook_id) is not None:
            return {"status": "duplicate", "webhookId": webhook_id}, 200
        event = _parse(body)
        known = event["type"] in KNOWN
        now = d.clock.now()
        session.add(WebhookEvent(webhook_id=webhook_id, type=event["type"][:64], payload=event, received_at=now,
                                 status="RECEIVED" if known else "IGNORED",
                                 result=None if known else "unknown event type"))
        if known:
            enqueue(session, TASK, webhook_id, now)
        try:
            session.commit()
        except IntegrityError:  # the same delivery twice at once
            session.rollback()
            return {"status": "duplicate", "webhookId": webhook_id}, 200
        return {"status": "accepted" if known else "ignored", "webhookId": webhook_id}
