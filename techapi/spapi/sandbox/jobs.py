"""Reading jobs (getServiceJobs, getServiceJobByServiceJobId), and the job
lookups every operation on one job starts with."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request

from techapi.spapi.sandbox import rules
from techapi.spapi.sandbox.listing import list_jobs
from techapi.spapi.sandbox.routing import fail
from techapi.spapi.sandbox.state import SandboxJob, SandboxState

if TYPE_CHECKING:
    from techapi.spapi.sandbox.app import Sandbox


def check_job_id(job_id: str) -> None:
    # Past the model's maxLength the ID is a bad parameter (400), not an unknown job.
    if len(job_id) > 100:
        raise fail(400, rules.missing(["serviceJobId"]))


def find_job(state: SandboxState, job_id: str, status: int, code: str = "InvalidInput") -> SandboxJob:
    """The job, or "Job not found" with the status and code the operation answers with.

    The caller holds state.lock, so the job cannot change between this and its use.
    """
    job = state.jobs.get(job_id)
    if job is None:
        raise fail(status, rules.err(f"Job not found for jobId {job_id}", code=code))
    return job


def get_service_jobs(sandbox: Sandbox, request: Request) -> tuple[int, Any]:
    with sandbox.state.lock:
        return list_jobs(sandbox.state, request.args)


def get_service_job(sandbox: Sandbox, request: Request, job_id: str) -> tuple[int, Any]:
    check_job_id(job_id)
    with sandbox.state.lock:
        job = find_job(sandbox.state, job_id, 404, code="NotFound")
        # A copy, so nothing done to the answer reaches the stored job.
        return 200, {"payload": json.loads(json.dumps(job.payload))}
