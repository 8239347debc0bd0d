"""POST /v1/webhooks/field-app: verify, store, acknowledge; the worker applies."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from techapi.apidoc import error_answers
from techapi.context import deps
from techapi.db import get_session
from techapi.webhooks import services
from techapi.webhooks.schemas import HEADERS, AckSchema, WebhookEventSchema

blp = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks", description="Field-app callbacks")
answers = error_answers(blp, {400: "Malformed headers or body", 401: "Signature or timestamp not valid",
                              422: "Not an event"})


@blp.route("/field-app")
class FieldApp(MethodView):
    @blp.doc(operationId="receiveFieldAppEvent")
    @blp.response(202, AckSchema)
    @blp.alt_response(200, schema=AckSchema, description="This webhook-id was received before")
    @answers(400, 401, 422, public=True)
    @blp.doc(parameters=HEADERS,
             requestBody={"required": True, "content": {"application/json": {"schema": WebhookEventSchema}}})
    def post(self) -> tuple[services.Ack, int]:
        """Receive a field-app event (Standard Webhooks signatures)

        For the field app's server, not the phone: an event signed with Standard Webhooks headers. 202 the first
        time, 200 for a webhook-id already received.
        """
        ack = services.receive(deps(), get_session(), request.headers, request.get_data(cache=False))
        return ack, 202 if ack.first_time else 200
