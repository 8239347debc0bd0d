"""Closing a job: setAppointmentFulfillmentData, then completeServiceJobByServiceJobId,
or cancelServiceJobByServiceJobId instead, each with the model's checks and messages."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request

from techapi.spapi.reasons import allowed_cancellation_codes
from techapi.spapi.sandbox import rules
from techapi.spapi.sandbox.jobs import check_job_id, find_job
from techapi.spapi.sandbox.routing import fail

if TYPE_CHECKING:
    from techapi.spapi.sandbox.app import Sandbox

FULFILLMENT_KEYS = ("estimatedArrivalTime", "fulfillmentTime", "appointmentResources", "fulfillmentDocuments")


def set_fulfillment_data(sandbox: Sandbox, request: Request, job_id: str, appointment_id: str) -> tuple[int, Any]:
    # Raised wrapped like every other operation's; the core sends them as the
    # model's bare ErrorList (app.BARE_ERROR_LISTS).
    bad = [n for n, v in (("serviceJobId", job_id), ("appointmentId", appointment_id))
           if not 1 <= len(v) <= 100 or (n == "appointmentId" and len(v) < 5)]
    if bad:
        raise fail(400, rules.missing(bad))
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise fail(400, rules.err("Could not parse the JSON payload."))
    if not any(k in body for k in FULFILLMENT_KEYS):
        raise fail(400, rules.err("No fulfillment artifacts provided in JSON payload."))
    now = sandbox.clock.now()
    state = sandbox.state
    with state.lock:
        job = state.jobs.get(job_id)
        if job is None:
            raise fail(422, rules.err(f"No job exist with jobId : {job_id}"))
        if job.status != "NOT_SERVICED":
            raise fail(422, rules.err(f"Job with id {job_id} can not be updated. "
                                      "Please check if the job is in valid status."))
        appt = job.appointment(appointment_id)
        if appt is None:
            raise fail(422, rules.err(f"Appointment with id {appointment_id} is not present in "
                                      "the job. Please check the input again."))
        if appt.get("appointmentStatus") != "ACTIVE":
            raise fail(422, rules.err(f"Appointment with appointment id {appointment_id} is not "
                                      "valid to update. Please check the input again"))
        errors: list[rules.Error] = []
        if "appointmentResources" in body:
            errors += rules.check_resources(body["appointmentResources"], state.technicians)
        if "fulfillmentTime" in body:
            errors += rules.check_fulfillment_time(body["fulfillmentTime"], now)
        if "estimatedArrivalTime" in body:
            errors += rules.check_arrival_time(body["estimatedArrivalTime"])
        docs = body.get("fulfillmentDocuments")
        if docs is not None:
            if not isinstance(docs, list):
                errors.append(rules.err("Could not parse fulfillmentDocuments."))
            else:
                for doc in docs:
                    dest_id = doc.get("uploadDestinationId") if isinstance(doc, dict) else None
                    dest = state.destinations.get(dest_id) if isinstance(dest_id, str) else None
                    errors += rules.check_document(doc, dest)
        if errors:
            raise fail(422, *errors)
        for key in FULFILLMENT_KEYS:
            if key in body:
                job.fulfillment[key] = json.loads(json.dumps(body[key]))
        job.fulfillment["appointmentId"] = appointment_id
        job.updated_at = now
    return 204, None


def complete_job(sandbox: Sandbox, request: Request, job_id: str) -> tuple[int, Any]:
    check_job_id(job_id)
    with sandbox.state.lock:
        job = find_job(sandbox.state, job_id, 422)
        if job.status != "NOT_SERVICED":
            raise fail(422, rules.err(f"Operation not allowed on job with jobId : {job_id} "
                                      f"and jobState : {job.status}"))
        lacking = []
        ft = job.fulfillment.get("fulfillmentTime") or {}
        if not (ft.get("startTime") and ft.get("endTime")):
            lacking.append("fulfillmentTime")
        if not job.fulfillment.get("fulfillmentDocuments"):
            lacking.append("fulfillmentDocuments")
        if lacking:
            raise fail(422, rules.err(
                f"Fulfillment data is incomplete for jobId {job_id}: missing [{', '.join(lacking)}]. "
                "Please set appointment fulfillment data before completing the job."))
        job.set_status("COMPLETED", "COMPLETED", sandbox.clock.now())
        job.completions += 1
    return 200, {}


def cancel_job(sandbox: Sandbox, request: Request, job_id: str) -> tuple[int, Any]:
    code = request.args.get("cancellationReasonCode", "")
    bad = ([] if 1 <= len(job_id) <= 100 else ["serviceJobId"]) + (
        [] if rules.REASON_CODE.match(code) else ["cancellationReasonCode"])
    if bad:
        raise fail(400, rules.missing(bad))
    with sandbox.state.lock:
        job = find_job(sandbox.state, job_id, 422)
        if job.status in ("COMPLETED", "CANCELLED"):
            raise fail(422, rules.err(f"Job with jobId {job_id} and jobStatus {job.status} "
                                      "cannot be cancelled"))
        if code not in allowed_cancellation_codes(job.payload.get("marketplaceId", "")):
            raise fail(422, rules.err(f"Received invalid input reason code {code} for jobId {job_id}"))
        job.set_status("CANCELLED", "CANCELLED", sandbox.clock.now())
        job.cancellations += 1
        job.cancellation_reason = code
    return 200, {}
