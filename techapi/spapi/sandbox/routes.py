"""Every path the sandbox serves and the handler behind it: the one map to extend.

To add a family of SP-API operations, write its handlers in a module of their
own (handler(sandbox, request, **path arguments) -> (status, body), raising
routing.Reply or routing.fail to answer early), then add one Operation line per
operationId below, at the model's method and path. Each Operation needs a usage
plan in techapi/spapi/plans.USAGE_PLANS (SandboxConfig's default), because the
core meters every Operation by its plan; test_model_contract checks both.
"""

from __future__ import annotations

from werkzeug.routing import Map, Rule

from techapi.spapi import plans
from techapi.spapi.sandbox import documents, fulfillment, inspection, jobs, lwa
from techapi.spapi.sandbox.routing import Endpoint, Operation, Route

JOB_PATH = "/service/v1/serviceJobs/<job_id>"

ROUTES: tuple[Route, ...] = (
    Endpoint("lwa_token", "POST", "/auth/o2/token", lwa.token),
    # jobs.py
    Operation(plans.GET_SERVICE_JOBS, "GET", "/service/v1/serviceJobs", jobs.get_service_jobs),
    Operation(plans.GET_SERVICE_JOB, "GET", JOB_PATH, jobs.get_service_job),
    # fulfillment.py
    Operation(plans.SET_FULFILLMENT_DATA, "PUT", f"{JOB_PATH}/appointments/<appointment_id>/fulfillment",
              fulfillment.set_fulfillment_data),
    Operation(plans.COMPLETE_SERVICE_JOB, "PUT", f"{JOB_PATH}/completions", fulfillment.complete_job),
    Operation(plans.CANCEL_SERVICE_JOB, "PUT", f"{JOB_PATH}/cancellations", fulfillment.cancel_job),
    # documents.py
    Operation(plans.CREATE_UPLOAD_DESTINATION, "POST", "/service/v1/documents", documents.create_upload_destination),
    Endpoint("upload", "PUT", "/_sandbox/uploads/<token>", documents.upload),
    # inspection.py
    Endpoint("inspect_job", "GET", "/_sandbox/jobs/<job_id>", inspection.inspect_job),
    Endpoint("stats", "GET", "/_sandbox/stats", inspection.stats),
    Endpoint("set_faults", "PUT", "/_sandbox/faults", inspection.set_faults),
)

BY_NAME: dict[str, Route] = {route.name: route for route in ROUTES}


def url_map() -> Map:
    """A fresh werkzeug Map of ROUTES, whose endpoints are the routes' names."""
    return Map([Rule(route.rule, methods=[route.method], endpoint=route.name) for route in ROUTES])
