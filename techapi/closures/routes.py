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
    @blp.doc(operationId="getClosure")
    @login_required()
    @blp.response(200, ClosureSchema)
    @answers(401, 404)
    def get(self, serviceJobId: str) -> Closure:
        """The job's closure: state and history

        The job's closure request: its state (PENDING_APPROVAL, QUEUED, COMPLETED, FAILED, REJECTED) and every
        transition, with who and why.
        """
        return services.closure_of(get_session(), current_user(), serviceJobId)

    @blp.doc(operationId="requestClosure")
    @login_required()
    @idempotent
    @blp.response(200, ClosureSchema)
    @answers(401, 403, 404, 409, e409="Not ready (with what is still missing), already closed or failed, "
                                        "or a cancellation of the job is queued or done")
    def post(self, serviceJobId: str) -> Closure:
        """Ask for the job to be closed (refused with what is still missing)

        The assigned technician asks for the job to be closed. 409 with `stillNeeded` while times or documents are
        missing; otherwise the closure waits for a supervisor's approval.
        """
        return services.ask_for_closure(deps(), get_session(), current_user(), serviceJobId)


@blp.route("/jobs/<string:serviceJobId>/closure/approve")
class Approve(MethodView):
    @blp.doc(operationId="approveClosure")
    @login_required()
    @idempotent
    @blp.response(200, ClosureSchema)
    @answers(401, 403, 404, 409, e409="The closure is not pending, or a cancellation of the job is queued or done")
    def post(self, serviceJobId: str) -> Closure:
        """Approve a pending closure: it is queued to be sent to Amazon (approving twice is fine)

        A supervisor of the job's store approves a pending closure; it is queued and sent to Amazon by the worker.
        Approving an approved closure again is fine.
        """
        return services.approve(deps(), get_session(), current_user(), serviceJobId)


@blp.route("/jobs/<string:serviceJobId>/closure/reject")
class Reject(MethodView):
    @blp.doc(operationId="rejectClosure")
    @login_required()
    @idempotent
    @blp.arguments(RejectSchema)
    @blp.response(200, ClosureSchema)
    @answers(401, 403, 404, 409)
    def post(self, body: dict[str, str], serviceJobId: str) -> Closure:
        """Reject a pending closure with a reason the technician will see

        A supervisor of the job's store rejects a pending closure with a reason the technician sees; the technician
        can fix the evidence and ask again.
        """
        return services.reject(deps(), get_session(), current_user(), serviceJobId, body["reason"])


@blp.route("/jobs/<string:serviceJobId>/closure/retry")
class Retry(MethodView):
    @blp.doc(operationId="retryClosure")
    @login_required()
    @idempotent
    @blp.response(200, ClosureSchema)
    @answers(401, 403, 404, 409, e409="The closure has not failed, or a cancellation of the job is queued or done")
    def post(self, serviceJobId: str) -> Closure:
        """Send a failed closure again, after fixing the cause

        A supervisor sends a FAILED closure to Amazon again, once its cause (a refused document, say) has been
        fixed.
        """
        return services.retry(deps(), get_session(), current_user(), serviceJobId)


@blp.route("/closures")
class Closures(MethodView):
    @blp.doc(operationId="listClosures")
    @login_required()
    @blp.arguments(ClosureQuerySchema, location="query")
    @blp.response(200, ClosureListSchema)
    @answers(401, 403)
    @etag(lambda args: closure_list_parts(get_session(), current_user(), args.get("status"),
                                          deps().settings.timezone))
    def get(self, args: dict[str, str]) -> dict[str, list[ClosureSummary]]:
        """Closures of my stores, with the evidence to decide on

        For supervisors (their stores) and admins: closures by status, each with the times and documents needed to
        decide on it.
        """
        return {"closures": list_closures(get_session(), current_user(), args.get("status"))}


@blp.route("/jobs/<string:serviceJobId>/cancellation")
class JobCancellation(MethodView):
    @blp.doc(operationId="getCancellation")
    @login_required()
    @blp.response(200, CancellationSchema)
    @answers(401, 404)
    def get(self, serviceJobId: str) -> Cancellation:
        """The job's cancellation request and its state

        The job's cancellation request, its reason code and its state on the way to Amazon.
        """
        return services.cancellation_of(get_session(), current_user(), serviceJobId)

    @blp.doc(operationId="cancelJob")
    @login_required()
    @idempotent
    @blp.arguments(CancelSchema)
    @blp.response(202, CancellationSchema)
    @answers(401, 403, 404, 409, 422, e409="A closure waits for approval, is queued or is done, "
                                             "or a cancellation with another reason is under way")
    def post(self, body: dict[str, str], serviceJobId: str) -> Cancellation:
        """Cancel the job on Amazon with a reason code valid for its marketplace

        The job's technician or a supervisor of its store cancels the job on Amazon with a reason code valid for the
        job's marketplace; queued and sent by the worker.
        """
        return services.request_cancellation(deps(), get_session(), current_user(), serviceJobId,
                                             body["reasonCode"])


@blp.route("/jobs/<string:serviceJobId>/history")
class History(MethodView):
    @blp.doc(operationId="getJobHistory")
    @login_required()
    @blp.response(200, HistorySchema)
    @answers(401, 404)
    def get(self, serviceJobId: str) -> services.History:
        """Everything that happened to the job here, oldest first (append-only)

        The job's append-only audit trail here: every time recorded, document added or removed, closure and
        cancellation step, with who and when.
        """
        return services.history(get_session(), current_user(), serviceJobId)
