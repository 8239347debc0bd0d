"""Job of the day: the technician's list and one job's detail."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from techapi.auth.guard import SECURITY, current_user, login_required
from techapi.clock import local_today
from techapi.closures.models import Closure
from techapi.context import deps
from techapi.db import get_session
from techapi.errors import ErrorSchema
from techapi.evidence.summary import evidence_for
from techapi.jobs import present, services
from techapi.jobs.schemas import JobDetailSchema, JobListSchema, JobsQuerySchema

blp = Blueprint("jobs", __name__, url_prefix="/v1/jobs", description="Job of the day")


@blp.route("")
class Jobs(MethodView):
    @login_required()
    @blp.arguments(JobsQuerySchema, location="query")
    @blp.response(200, JobListSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Missing or invalid token")
    @blp.doc(security=SECURITY)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """My jobs for a day, in appointment order"""
        user = current_user()
        tz = user.timezone or deps().settings.timezone
        day = args.get("date") or local_today(deps().clock, tz)
        session = get_session()
        jobs = services.jobs_of_day(session, user, day, tz)
        evidence = evidence_for(session, [j.service_job_id for j in jobs])
        min_photos = deps().settings.min_photos
        return {"date": day, "timezone": tz,
                "jobs": [present.summary(j, evidence[j.service_job_id], min_photos) for j in jobs]}


@blp.route("/<string:serviceJobId>")
class JobById(MethodView):
    @login_required()
    @blp.response(200, JobDetailSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Missing or invalid token")
    @blp.alt_response(404, schema=ErrorSchema, description="No such job, or not yours")
    @blp.doc(security=SECURITY)
    def get(self, serviceJobId: str) -> dict[str, Any]:
        """One job in full"""
        session = get_session()
        job = services.job_for(session, current_user(), serviceJobId)
        evidence = evidence_for(session, [job.service_job_id])[job.service_job_id]
        closure = session.get(Closure, job.service_job_id)
        brief = None if closure is None else {"state": closure.state, "rejectionReason": closure.rejection_reason,
                                               "failureReason": closure.failure_reason}
        return present.detail(job, evidence, deps().settings.min_photos, brief)
