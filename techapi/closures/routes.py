"""Closure requests, the supervisor's gate, cancellation and the job's history."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import Session

from techapi.apidoc import error_answers
from techapi.audit import AuditEvent
from techapi.auth.guard import current_user, login_required
from techapi.auth.models import User
from techapi.closures import services
from techapi.closures.models import Cancellation, Closure
from techapi.closures.schemas import (
    CancellationSchema,
    CancelSchema,
    ClosureListSchema,
    ClosureQuerySchema,
    ClosureSchema,
    HistorySchema,
    RejectSchema,
)
from techapi.context import deps
from techapi.db import get_session
from techapi.errors import NotFoundError
from techapi.evidence.access import job_to_act_on
from techapi.evidence.documents import documents_of
from techapi.evidence.times import times_of
from techapi.idempotency import PARAMETER as IDEMPOTENCY_KEY
from techapi.jobs import services as jobs
from techapi.jobs.present import one_line

blp = Blueprint("closures", __name__, url_prefix="/v1", description="Closing and cancelling jobs")
_errors = error_answers(blp, {
    401: "Missing or invalid token", 403: "Your role may not do this", 404: "No such job, or not yours",
    409: "Not possible in the closure's current state", 422: "The request did not validate",
})


def _names(session: Session, *ids: int | None) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {uid: name for uid, name in session.execute(select(User.id, User.username).where(User.id.in_(wanted)))}


def _events(session: Session, job_id: str, prefix: str | None = None) -> list[dict[str, Any]]:
    query = select(AuditEvent).where(AuditEvent.service_job_id == job_id)
    if prefix:
        query = query.where(AuditEvent.action.startswith(prefix))
    return [{"action": e.action, "at": e.at, "deviceAt": e.device_at, "actor": e.actor, "source": e.source,
             "details": e.details or {}} for e in session.scalars(query.order_by(AuditEvent.id))]


def _closure(session: Session, closure: Closure) -> dict[str, Any]:
    names = _names(session, closure.requested_by, closure.decided_by)
    return {
        "serviceJobId": closure.service_job_id, "state": closure.state,
        "requestedBy": names.get(closure.requested_by), "requestedAt": closure.requested_at,
        "decidedBy": names.get(closure.decided_by), "decidedAt": closure.decided_at,
        "rejectionReason": closure.rejection_reason, "failureReason": closure.failure_reason,
        "step": closure.step, "upstreamStatus": closure.upstream_status, "completedAt": closure.completed_at,
        "history": _events(session, closure.service_job_id, "closure."),
    }


def _cancellation(c: Cancellation) -> dict[str, Any]:
    return {"serviceJobId": c.service_job_id, "reasonCode": c.reason_code, "state": c.state,
            "requestedAt": c.requested_at, "failureReason": c.failure_reason}


@blp.route("/jobs/<string:serviceJobId>/closure")
class JobClosure(MethodView):
    @login_required()
    @blp.response(200, ClosureSchema)
    @_errors(401, 404)
    def get(self, serviceJobId: str) -> dict[str, Any]:
        """The job's closure: state and history"""
        session = get_session()
        job = jobs.job_for(session, current_user(), serviceJobId)
        closure = services.closure_of(session, job.service_job_id)
        if closure is None:
            raise NotFoundError("No closure has been asked for on this job")
        return _closure(session, closure)

    @login_required()
    @blp.response(200, ClosureSchema)
    @_errors(401, 403, 404, 409)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, serviceJobId: str) -> dict[str, Any]:
        """Ask for the job to be closed (refused with what is still missing)"""
        session, user, d = get_session(), current_user(), deps()
        job = job_to_act_on(session, user, serviceJobId)
        closure = services.request_closure(session, job, user, d.clock.now(), d.settings.require_approval,
                                           d.settings.min_photos)
        return _closure(session, closure)


@blp.route("/jobs/<string:serviceJobId>/closure/approve")
class Approve(MethodView):
    @login_required()
    @blp.response(200, ClosureSchema)
    @_errors(401, 403, 404, 409)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, serviceJobId: str) -> dict[str, Any]:
        """Approve a pending closure: it is queued to be sent to Amazon (approving twice is fine)"""
        session = get_session()
        return _closure(session, services.approve(session, current_user(), serviceJobId, deps().clock.now()))


@blp.route("/jobs/<string:serviceJobId>/closure/reject")
class Reject(MethodView):
    @login_required()
    @blp.arguments(RejectSchema)
    @blp.response(200, ClosureSchema)
    @_errors(401, 403, 404, 409)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body: dict[str, str], serviceJobId: str) -> dict[str, Any]:
        """Reject a pending closure with a reason the technician will see"""
        session = get_session()
        closure = services.reject(session, current_user(), serviceJobId, body["reason"], deps().clock.now())
        return _closure(session, closure)


@blp.route("/jobs/<string:serviceJobId>/closure/retry")
class Retry(MethodView):
    @login_required()
    @blp.response(200, ClosureSchema)
    @_errors(401, 403, 404, 409)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, serviceJobId: str) -> dict[str, Any]:
        """Send a failed closure again, after fixing the cause"""
        session = get_session()
        return _closure(session, services.retry(session, current_user(), serviceJobId, deps().clock.now()))


@blp.route("/closures")
class Closures(MethodView):
    @login_required()
    @blp.arguments(ClosureQuerySchema, location="query")
    @blp.response(200, ClosureListSchema)
    @_errors(401, 403)
    def get(self, args: dict[str, str]) -> dict[str, Any]:
        """Closures of my stores, with the evidence to decide on"""
        session = get_session()
        rows = services.list_closures(session, current_user(), args.get("status"))
        names = _names(session, *(c.requested_by for c, _ in rows))
        out = []
        for closure, job in rows:
            work = times_of(session, job.service_job_id)
            docs = documents_of(session, job.service_job_id)
            out.append({
                "serviceJobId": job.service_job_id, "state": closure.state,
                "requestedBy": names.get(closure.requested_by), "requestedAt": closure.requested_at,
                "rejectionReason": closure.rejection_reason, "failureReason": closure.failure_reason,
                "storeId": job.store_id, "jobStatus": job.status, "appointmentStart": job.appointment_start,
                "customerName": job.customer_name, "address": one_line(job.address) if job.address else None,
                "technicians": [t.technician_id for t in job.technicians],
                "evidence": {
                    "start": work.start.at if work.start else None,
                    "finish": work.finish.at if work.finish else None,
                    "documents": [{"id": d.id, "kind": d.kind, "contentType": d.content_type, "status": d.status,
                                   "size": d.size,
                                   "url": f"/v1/jobs/{job.service_job_id}/documents/{d.id}/content"} for d in docs],
                },
            })
        return {"closures": out}


@blp.route("/jobs/<string:serviceJobId>/cancellation")
class JobCancellation(MethodView):
    @login_required()
    @blp.response(200, CancellationSchema)
    @_errors(401, 404)
    def get(self, serviceJobId: str) -> dict[str, Any]:
        """The job's cancellation request and its state"""
        session = get_session()
        job = jobs.job_for(session, current_user(), serviceJobId)
        cancellation = session.get(Cancellation, job.service_job_id)
        if cancellation is None:
            raise NotFoundError("No cancellation has been asked for on this job")
        return _cancellation(cancellation)

    @login_required()
    @blp.arguments(CancelSchema)
    @blp.response(202, CancellationSchema)
    @_errors(401, 403, 404, 409, 422)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body: dict[str, str], serviceJobId: str) -> dict[str, Any]:
        """Cancel the job on Amazon with a reason code valid for its marketplace"""
        session, user = get_session(), current_user()
        job = jobs.job_for(session, user, serviceJobId)
        cancellation = services.request_cancellation(session, job, user, body["reasonCode"], deps().clock.now())
        return _cancellation(cancellation)


@blp.route("/jobs/<string:serviceJobId>/history")
class History(MethodView):
    @login_required()
    @blp.response(200, HistorySchema)
    @_errors(401, 404)
    def get(self, serviceJobId: str) -> dict[str, Any]:
        """Everything that happened to the job here, oldest first (append-only)"""
        session = get_session()
        job = jobs.job_for(session, current_user(), serviceJobId)
        return {"serviceJobId": job.service_job_id, "events": _events(session, job.service_job_id)}
