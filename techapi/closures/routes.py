"""Closure requests, the supervisor's gate, cancellation and the job's history."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from techapi.apidoc import error_answers
from techapi.auth.guard import current_user, login_required
from techapi.closures import services
from techapi.closures.models import Cancellation, Closure
from techapi.closures.queries import ClosureSummary, closure_list_parts, list_closures
from techapi.closures.schemas import (
    CancellationSchema,
    CancelSchema,
    ClosureListSchema,
    ClosureQuerySchema,
    ClosureSchema,
    HistorySchema,
    RejectSchema,
)
from techapi.conditional import conditional_get
from techapi.context import deps
from techapi.db import get_session
from techapi.idempotency.decorator import idempotent

blp = Blueprint("closures", __name__, url_prefix="/v1", description="Closing and cancelling jobs")
answers = error_answers(blp, {409: "Not possible in the closure's current state"})
etag = conditional_get(blp)


@blp.route("/jobs/<string:serviceJobId>/closure")
class JobClosure(MethodView):
    @login_required()
    @blp.response(200, ClosureSchema)
    @answers(401, 404)
    def get(self, serviceJobId: str) -> Closure:
        """The job's closure: state and history"""
        return services.closure_of(get_session(), current_user(), serviceJobId)

    @login_required()
    @idempotent
    @blp.response(200, ClosureSchema)
    @answers(401, 403, 404, 409, e409="Not ready (with what is still missing), already closed or failed, "
                                        "or a cancellation of the job is queued or done")
    def post(self, serviceJobId: str) -> Closure:
        """Ask for the job to be closed (refused with what is still missing)"""
        return services.ask_for_closure(deps(), get_session(), current_user(), serviceJobId)


@blp.route("/jobs/<string:serviceJobId>/closure/approve")
class Approve(MethodView):
    @login_required()
    @idempotent
    @blp.response(200, ClosureSchema)
    @answers(401, 403, 404, 409, e409="The closure is not pending, or a cancellation of the job is queued or done")
    def post(self, serviceJobId: str) -> Closure:
        """Approve a pending closure: it is queued to be sent to Amazon (approving twice is fine)"""
        return services.approve(deps(), get_session(), current_user(), serviceJobId)


@blp.route("/jobs/<string:serviceJobId>/closure/reject")
class Reject(MethodView):
    @login_required()
    @idempotent
    @blp.arguments(RejectSchema)
    @blp.response(200, ClosureSchema)
    @answers(401, 403, 404, 409)
    def post(self, body: dict[str, str], serviceJobId: str) -> Closure:
        """Reject a pending closure with a reason the technician will see"""
        return services.reject(deps(), get_session(), current_user(), serviceJobId, body["reason"])


@blp.route("/jobs/<string:serviceJobId>/closure/retry")
class Retry(MethodView):
    @login_required()
    @idempotent
    @blp.response(200, ClosureSchema)
    @answers(401, 403, 404, 409, e409="The closure has not failed, or a cancellation of the job is queued or done")
    def post(self, serviceJobId: str) -> Closure:
        """Send a failed closure again, after fixing the cause"""
        return services.retry(deps(), get_session(), current_user(), serviceJobId)


@blp.route("/closures")
class Closures(MethodView):
    @login_required()
    @blp.arguments(ClosureQuerySchema, location="query")
    @blp.response(200, ClosureListSchema)
    @answers(401, 403)
    @etag(lambda args: closure_list_parts(get_session(), current_user(), args.get("status"),
                                          deps().settings.timezone))
    def get(self, args: dict[str, str]) -> dict[str, list[ClosureSummary]]:
        """Closures of my stores, with the evidence to decide on"""
        return {"closures": list_closures(get_session(), current_user(), args.get("status"))}


@blp.route("/jobs/<string:serviceJobId>/cancellation")
class JobCancellation(MethodView):
    @login_required()
    @blp.response(200, CancellationSchema)
    @answers(401, 404)
    def get(self, serviceJobId: str) -> Cancellation:
        """The job's cancellation request and its state"""
        return services.cancellation_of(get_session(), current_user(), serviceJobId)

    @login_required()
    @idempotent
    @blp.arguments(CancelSchema)
    @blp.response(202, CancellationSchema)
    @answers(401, 403, 404, 409, 422, e409="A closure waits for approval, is queued or is done, "
                                             "or a cancellation with another reason is under way")
    def post(self, body: dict[str, str], serviceJobId: str) -> Cancellation:
        """Cancel the job on Amazon with a reason code valid for its marketplace"""
        return services.request_cancellation(deps(), get_session(), current_user(), serviceJobId,
                                             body["reasonCode"])


@blp.route("/jobs/<string:serviceJobId>/history")
class History(MethodView):
    @login_required()
    @blp.response(200, HistorySchema)
    @answers(401, 404)
    def get(self, serviceJobId: str) -> services.History:
        """Everything that happened to the job here, oldest first (append-only)"""
        return services.history(get_session(), current_user(), serviceJobId)
