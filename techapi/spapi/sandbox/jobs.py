"""Reading jobs: getServiceJobs and getServiceJobByServiceJobId."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request

from techapi.spapi.sandbox import rules
from techapi.spapi.sandbox.listing import list_jobs
from techapi.spapi.sandbox.routing import fail

if TYPE_CHECKING:
    from techapi.spapi.sandbox.app import Sandbox


def get_service_jobs(sandbox: Sandbox, request: Request) -> tuple[int, Any]:
    with sandbox.state.lock:
        return list_jobs(sandbox.state, request.args)


def get_service_job(sandbox: Sandbox, request: Request, job_id: str) -> tuple[int, Any]:
    if len(job_id) > 100:
        raise fail(400, rules.missing(["serviceJobId"]))
    with sandbox.state.lock:
        job = sandbox.state.jobs.get(job_id)
        if job is None:
            raise fail(404, rules.err(f"Job not found for jobId {job_id}", code="NotFound"))
        # A copy, so nothing done to the answer reaches the stored job.
        return 200, {"payload": json.loads(json.dumps(job.payload))}
