"""Liveness and readiness probes for the load balancer and the orchestrator."""

from __future__ import annotations

import logging

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy.exc import SQLAlchemyError

from techapi.apidoc import error_answers
from techapi.db import get_db
from techapi.errors import ServiceUnavailable

log = logging.getLogger(__name__)
blp = Blueprint("health", __name__, description="Probes")
answers = error_answers(blp, {503: "The database is not reachable"})


class StatusSchema(Schema):
    status = fields.String(required=True)


@blp.route("/healthz")
class Health(MethodView):
    @blp.doc(operationId="getLiveness")
    @blp.response(200, StatusSchema)
    def get(self) -> dict[str, str]:
        """Liveness: the process answers

        Answers 200 as long as the process serves requests; it touches nothing else. For the load balancer's
        liveness probe.
        """
        return {"status": "ok"}


@blp.route("/readyz")
class Ready(MethodView):
    @blp.doc(operationId="getReadiness")
    @blp.response(200, StatusSchema)
    @answers(503, public=True)
    def get(self) -> dict[str, str]:
        """Readiness: the database answers

        200 when a query to the database answers, 503 otherwise. For the load balancer's readiness probe.
        """
        try:
            get_db().ping()
        except SQLAlchemyError as exc:
            log.warning("readiness check failed: %s", type(exc).__name__)
            raise ServiceUnavailable("Database unreachable") from None
        return {"status": "ready"}
