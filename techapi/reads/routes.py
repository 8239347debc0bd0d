"""Job of the day: the technician's list and one job's detail (read side)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from techapi.apidoc import error_answers
from techapi.auth.guard import current_user, login_required
from techapi.conditional import conditional_get
from techapi.context import deps
from techapi.db import get_session
from techapi.reads import etags, jobs
from techapi.reads.schemas import JobDetailSchema, JobListSchema, JobsQuerySchema

blp = Blueprint("jobs", __name__, url_prefix="/v1/jobs", description="Job of the day")
answers = error_answers(blp)
etag = conditional_get(blp)


@blp.route("")
class Jobs(MethodView):
    @blp.doc(operationId="listJobs")
    @login_required(reads_only=True)
    @blp.arguments(JobsQuerySchema, location="query")
    @blp.response(200, JobListSchema)
    @answers(401, 403, e403="`needs=assignment` asked by a technician")
    @etag(etags.day_list_parts, etags.day_list_answer_parts)
    def get(self, args: dict[str, Any]) -> jobs.JobList:
        """My jobs for a day, in appointment order (or only those that need assigning)

        The jobs of one day (default: today in the caller's time zone), in appointment order: a technician's own, a
        supervisor's stores', every job for an admin. Each entry says what is still needed before the job can be
        closed. `needs=assignment` lists only jobs without a technician (supervisors and admins).
        """
        d = deps()
        return jobs.day_list(get_session(), current_user(), args.get("date"), d.clock, d.settings,
                             args.get("needs"))


@blp.route("/<string:serviceJobId>")
class JobById(MethodView):
    @blp.doc(operationId="getJob")
    @login_required(reads_only=True)
    @blp.response(200, JobDetailSchema)
    @answers(401, 404)
    @etag(etags.detail_parts)
    def get(self, serviceJobId: str) -> jobs.JobDetail:
        """One job in full

        Everything the job screen shows about one job. Another technician's job, or a job of a store the caller
        does not oversee, is 404, saying nothing of it.
        """
        return jobs.job_detail(get_session(), current_user(), serviceJobId, deps().settings)
