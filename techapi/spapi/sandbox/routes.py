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
from techapi.spapi.sandbox import appointments, documents, fulfillment, inspection, jobs, lwa, resources
from techapi.spapi.sandbox.routing import Endpoint, Operation, Route

JOB_PATH = "/service/v1/serviceJobs/<job_id>"
RESOURCE_PATH = "/service/v1/serviceResources/<resource_id>"

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
    # appointments.py
    Operation(plans.GET_APPOINTMENT_SLOTS, "GET", "/service/v1/appointmentSlots", appointments.get_slots),
    Operation(plans.GET_JOB_APPOINTMENT_SLOTS, "GET", f"{JOB_PATH}/appointmentSlots", appointments.get_job_slots),
    Operation(plans.ADD_APPOINTMENT, "POST", f"{JOB_PATH}/appointments", appointments.add_appointment),
    Operation(plans.RESCHEDULE_APPOINTMENT, "POST", f"{JOB_PATH}/appointments/<appointment_id>",
              appointments.reschedule_appointment),
    Operation(plans.ASSIGN_RESOURCES, "PUT", f"{JOB_PATH}/appointments/<appointment_id>/resources",
              appointments.assign_resources),
    # resources.py
    Operation(plans.UPDATE_SCHEDULE, "PUT", f"{RESOURCE_PATH}/schedules", resources.update_schedule),
    Operation(plans.CREATE_RESERVATION, "POST", "/service/v1/reservation", resources.create_reservation),
    Operation(plans.UPDATE_RESERVATION, "PUT", "/service/v1/reservation/<reservation_id>",
              resources.update_reservation),
    Operation(plans.CANCEL_RESERVATION, "DELETE", "/service/v1/reservation/<reservation_id>",
              resources.cancel_reservation),
    Operation(plans.GET_RANGE_CAPACITY, "POST", f"{RESOURCE_PATH}/capacity/range", resources.get_range_capacity),
    Operation(plans.GET_FIXED_CAPACITY, "POST", f"{RESOURCE_PATH}/capacity/fixed", resources.get_fixed_capacity),
    # inspection.py
    Endpoint("inspect_job", "GET", "/_sandbox/jobs/<job_id>", inspection.inspect_job),
    Endpoint("stats", "GET", "/_sandbox/stats", inspection.stats),
    Endpoint("set_faults", "PUT", "/_sandbox/faults", inspection.set_faults),
)

BY_NAME: dict[str, Route] = {route.name: route for route in ROUTES}


def url_map() -> Map:
    """A fresh werkzeug Map of ROUTES, whose endpoints are the routes' names."""
    return Map([Rule(route.rule, methods=[route.method], endpoint=route.name) for route in ROUTES])
