"""Assigning technicians to a job's active appointment (through the queue)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from techapi.apidoc import error_answers
from techapi.assignment import services
from techapi.assignment.models import Assignment
from techapi.assignment.schemas import AssignmentSchema, AssignSchema, TechnicianStateSchema
from techapi.auth.guard import current_user, login_required
from techapi.context import deps
from techapi.db import get_session
from techapi.idempotency.decorator import idempotent

blp = Blueprint("assignment", __name__, url_prefix="/v1", description="Assigning technicians")
answers = error_answers(blp, {403: "Only a supervisor of the job's store (or an admin) assigns technicians",
                              409: "The job has no active appointment",
                              422: "The request did not validate, or names a technician the job's store does "
                                   "not have"})


@blp.route("/jobs/<string:serviceJobId>/technicians")
class JobTechnicians(MethodView):
    @blp.doc(operationId="getJobTechnicians")
    @login_required()
    @blp.response(200, TechnicianStateSchema)
    @answers(401, 404)
    def get(self, serviceJobId: str) -> services.TechnicianState:
        """Who is on the job's appointment, and the latest assignment request

        The technicians on the job's active appointment and the latest assignment request with its state.
        """
        return services.technicians_of(get_session(), current_user(), serviceJobId)

    @blp.doc(operationId="assignTechnicians")
    @login_required()
    @idempotent
    @blp.arguments(AssignSchema)
    @blp.response(202, AssignmentSchema)
    @answers(401, 403, 404, 409, 422)
    def put(self, body: dict[str, Any], serviceJobId: str) -> Assignment:
        """Assign technicians to the job's active appointment, through the queue

        Answered 202 with the assignment PENDING; the worker makes it DONE, or FAILED with SP-API's
        message. A request still PENDING is replaced by this one (last write wins).
        """
        return services.request_assignment(deps(), get_session(), current_user(), serviceJobId,
                                           body["technicianIds"])
