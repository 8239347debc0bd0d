"""Shapes of an offline batch and of its answer."""

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_dump, validate

from techapi.edge.times import Moment
from techapi.offline.services import InvalidAction


class ActionSchema(Schema):
    idempotencyKey = fields.String(required=True, validate=validate.Length(1, 200))
    type = fields.String(required=True, validate=validate.OneOf(["start", "finish", "closure"]))
    serviceJobId = fields.String(required=True, validate=validate.Length(1, 100))
    at = Moment(metadata={"description": "Device time of the action (start, finish)"})


class EachAction(fields.List):
    """A list whose items are loaded one by one: an item that does not validate
    becomes an InvalidAction, answered on its own, instead of failing the batch."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        if not isinstance(value, list):
            raise self.make_error("invalid")
        loaded: list[Any] = []
        for item in value:
            try:
                loaded.append(self.inner.deserialize(item, **kwargs))
            except ValidationError as error:
                loaded.append(InvalidAction(item, error.normalized_messages()))
        return loaded


class BatchSchema(Schema):
    sentAt = Moment(required=True, metadata={"description": "The device's clock when it sent this"})
    actions = EachAction(fields.Nested(ActionSchema), required=True, validate=validate.Length(1, 100),
                         metadata={"description": "Each action is answered on its own: one that does not "
                                                  "validate is rejected with its errors, the others still apply"})


class ResultSchema(Schema):
    index = fields.Integer(required=True, metadata={"description": "The action's position in the batch, from 0"})
    idempotencyKey = fields.String(attribute="idempotency_key",
                                   metadata={"description": "As sent (absent when it was not a string)"})
    type = fields.String(metadata={"description": "As sent (absent when it was not a string)"})
    serviceJobId = fields.String(attribute="service_job_id",
                                 metadata={"description": "As sent (absent when it was not a string)"})
    status = fields.String(required=True, metadata={
        "enum": ["applied", "duplicate", "rejected", "failed"],
        "description": "rejected: never applied, for the reason given (a retry is rejected again); failed: a "
                       "server error kept it from being applied and its key was not kept: send it again"})
    reason = fields.String()
    errors = fields.Dict(metadata={"description": "For an action that did not validate: its field errors"})
    firstResult = fields.String(attribute="first_result",
                                metadata={"description": "For a duplicate: what happened the first time"})

    @post_dump
    def _omit_absent(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        # reason, errors and firstResult are there only when they say something.
        return {k: v for k, v in data.items() if v is not None}


class ReplaySchema(Schema):
    receivedAt = fields.DateTime(required=True, attribute="received_at")
    clockSkewSeconds = fields.Float(required=True, attribute="clock_skew_seconds",
                                    metadata={"description": "Device clock minus server clock"})
    corrected = fields.Boolean(required=True, metadata={"description": "Times were corrected by the skew"})
    results = fields.List(fields.Nested(ResultSchema), required=True)
