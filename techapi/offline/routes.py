"""POST /v1/sync/actions: the phone's offline queue, replayed."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from techapi.auth.guard import SECURITY, current_user, login_required
from techapi.auth.models import Role
from techapi.context import deps
from techapi.db import get_session
from techapi.errors import ErrorSchema
from techapi.offline.services import replay

blp = Blueprint("offline", __name__, url_prefix="/v1/sync", description="Offline replay")


class ActionSchema(Schema):
    idempotencyKey = fields.String(required=True, validate=validate.Length(1, 200))
    type = fields.String(required=True, validate=validate.OneOf(["start", "finish", "closure"]))
    serviceJobId = fields.String(required=True, validate=validate.Length(1, 100))
    at = fields.AwareDateTime(metadata={"description": "Device time of the action (start, finish)"})


class BatchSchema(Schema):
    sentAt = fields.AwareDateTime(required=True, metadata={"description": "The device's clock when it sent this"})
    actions = fields.List(fields.Nested(ActionSchema), required=True, validate=validate.Length(1, 100))


class ResultSchema(Schema):
    idempotencyKey = fields.String(required=True)
    type = fields.String(required=True)
    serviceJobId = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["applied", "duplicate", "rejected"]})
    reason = fields.String()
    firstResult = fields.String(metadata={"description": "For a duplicate: what happened the first time"})


class ReplaySchema(Schema):
    receivedAt = fields.DateTime(required=True)
    clockSkewSeconds = fields.Float(required=True, metadata={"description": "Device clock minus server clock"})
    corrected = fields.Boolean(required=True, metadata={"description": "Times were corrected by the skew"})
    results = fields.List(fields.Nested(ResultSchema), required=True)


@blp.route("/actions")
class Actions(MethodView):
    @login_required(Role.TECHNICIAN)
    @blp.arguments(BatchSchema)
    @blp.response(200, ReplaySchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Missing or invalid token")
    @blp.alt_response(403, schema=ErrorSchema, description="Not a technician")
    @blp.doc(security=SECURITY)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Replay actions recorded offline, in order, each once (answers per action)"""
        return replay(get_session(), deps().settings, current_user(), body["sentAt"], body["actions"],
                      deps().clock.now())
