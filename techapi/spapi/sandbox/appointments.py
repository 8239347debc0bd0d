"""Appointments: getAppointmentSlots, getAppointmmentSlotsByJobId,
addAppointmentForServiceJobByServiceJobId, rescheduleAppointmentForServiceJobByServiceJobId
and assignAppointmentResources, on the capacity model of capacity.py, with the
model's checks and messages.

A reschedule cancels the old appointment and adds a new ACTIVE one with a new
appointmentId (carrying rescheduledAppointmentId = the old one); its
technicians are not carried over but named in a RESOURCES_UNASSIGNED warning.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request

from techapi.clock import iso_z
from techapi.spapi import plans
from techapi.spapi.reasons import reschedule_reasons
from techapi.spapi.sandbox import capacity, rules
from techapi.spapi.sandbox.capacity_rules import marketplace, parse_when, utc_seconds
from techapi.spapi.sandbox.routing import fail
from techapi.spapi.sandbox.seed import SERVICES
from techapi.spapi.sandbox.state import SandboxJob, SandboxState

if TYPE_CHECKING:
    from techapi.spapi.sandbox.app import Sandbox

PROVIDER_ID = "A3SANDBOXPROVIDER"  # seed.py's serviceJobProvider: jobs of other providers are not ours
DEFAULT_WINDOW = timedelta(days=7)  # "Default value is as per business configuration."
MAX_AHEAD = timedelta(days=365)
SERVICE_MINUTES = {asin: minutes for asin, _, _, minutes in SERVICES}
NBSP = "\u00a0"  # sic: the model's resources messages are spaced with no-break spaces


def service_minutes(job: SandboxJob) -> int:
    """The service's configured duration: by ASIN, else the job's own appointment, else an hour."""
    asin = (job.payload.get("scopeOfWork") or {}).get("asin")
    if asin in SERVICE_MINUTES:
        return SERVICE_MINUTES[asin]
    for appt in job.payload.get("appointments") or []:
        minutes = (appt.get("appointmentTime") or {}).get("durationInMinutes")
        if isinstance(minutes, int) and minutes > 0:
            return minutes
    return 60


def _window(sandbox: Sandbox, request: Request, prefix: str) -> tuple[datetime, datetime]:
    raw_start, raw_end = request.args.get("startTime"), request.args.get("endTime")
    start = parse_when(raw_start) if raw_start is not None and rules.ISO_DATETIME.match(raw_start) else None
    end = parse_when(raw_end) if raw_end is not None and rules.ISO_DATETIME.match(raw_end) else None
    for raw, value, name in ((raw_start, start, "Start"), (raw_end, end, "End")):
        if raw is not None and value is None:
            raise fail(400, rules.err(f"{prefix}{name} Time is not a valid ISO date/time object"))
    if (start is None) != (end is None):
        raise fail(400, rules.err(f"{prefix}Start Time and {prefix}End Time should be provided together"))
    if start is None or end is None:
        now = sandbox.clock.now()
        return now, now + DEFAULT_WINDOW
    if end <= start:
        raise fail(400, rules.err(f"{prefix}End Time should be after {prefix}Start Time"))
    if end - start > timedelta(days=plans.MAX_SLOT_RANGE_DAYS):
        raise fail(400, rules.err(f"Maximum range of appointment slots can be {plans.MAX_SLOT_RANGE_DAYS} days"))
    return start, end


def _report(slots: list[tuple[datetime, datetime, int]], start: datetime, end: datetime) -> dict[str, Any]:
    return {"payload": {
        "startTime": utc_seconds(start), "endTime": utc_seconds(end), "schedulingType": "REAL_TIME_SCHEDULING",
        "appointmentSlots": [{"startTime": utc_seconds(s), "endTime": utc_seconds(e), "capacity": c}
                             for s, e, c in slots],
    }}


def get_slots(sandbox: Sandbox, request: Request) -> tuple[int, Any]:
    asin, store_id = request.args.get("asin", ""), request.args.get("storeId", "")
    bad = [n for n, ok in (("asin", bool(asin)), ("storeId", 1 <= len(store_id) <= 100)) if not ok]
    if bad:
        raise fail(400, rules.missing(bad))
    marketplace(request.args)
    start, end = _window(sandbox, request, "Range ")
    with sandbox.state.lock:
        if store_id not in sandbox.state.stores or asin not in SERVICE_MINUTES:
            raise fail(422, rules.err(f"No service is configured for asin : {asin} in storeId : {store_id}"))
        slots = capacity.appointment_slots(sandbox.state, store_id, SERVICE_MINUTES[asin], start, end,
                                           sandbox.clock.now())
    return 200, _report(slots, start, end)


def _job_id_ok(job_id: str) -> bool:
    return 1 <= len(job_id) <= 100


def _job(state: SandboxState, job_id: str, message: str) -> SandboxJob:
    job = state.jobs.get(job_id)
    if job is None:
        raise fail(422, rules.err(message))
    provider = (job.payload.get("serviceJobProvider") or {}).get("serviceJobProviderId")
    if provider not in (None, PROVIDER_ID):
        raise fail(403, rules.err("Not authorized to access this resource. Please check your input again.",
                                  code="UnauthorizedAction"))
    return job


def _not_allowed(job: SandboxJob) -> Any:
    return fail(422, rules.err(f"Operation not allowed on job with jobId : {job.job_id} and jobState : {job.status}"))


def get_job_slots(sandbox: Sandbox, request: Request, job_id: str) -> tuple[int, Any]:
    if not _job_id_ok(job_id):
        raise fail(400, rules.missing(["serviceJobId"]))
    marketplace(request.args)
    start, end = _window(sandbox, request, "")
    with sandbox.state.lock:
        job = _job(sandbox.state, job_id, f"No job exist with jobId : {job_id}")
        if job.status not in ("NOT_SERVICED", "PENDING_SCHEDULE"):
            raise _not_allowed(job)
        # The job's own appointment is not counted against it: it may move within its slot.
        slots = capacity.appointment_slots(sandbox.state, job.payload.get("storeId", ""), service_minutes(job),
                                           start, end, sandbox.clock.now(), exclude_job=job_id)
    return 200, _report(slots, start, end)


def _appointment_time(body: Any) -> tuple[str, Any]:
    when = body.get("appointmentTime") if isinstance(body, dict) else None
    if not isinstance(when, dict) or not isinstance(when.get("startTime"), str):
        raise fail(400, rules.missing(["appointmentTime"]))
    raw = when["startTime"]
    if not rules.ISO_DATETIME.match(raw) or parse_when(raw) is None:
        raise fail(422, rules.err(f"Failed to parse ISO8601 input: {raw}"))
    if not rules.is_utc(raw):
        raise fail(422, rules.err(f"ISO8601 time {raw} is not in UTC."))
    return raw, when.get("durationInMinutes")


def _book(sandbox: Sandbox, job: SandboxJob, raw_start: str, duration: Any) -> dict[str, Any]:
    """Checks the time against the store's slots; returns the new appointment (not yet added)."""
    def refuse(reason: str) -> Any:
        return fail(422, rules.err(f"Failed to add appointment for jobId : {job.job_id}, reason : {reason}"))

    start, now = parse_when(raw_start), sandbox.clock.now()
    assert start is not None
    if start <= now:
        raise refuse("Start time of appointment should be in the future.")
    if start > now + MAX_AHEAD:
        raise refuse("Start time for appointment is beyond the maximum allowed period of 365 days.")
    minutes = service_minutes(job)
    if duration is not None and (not isinstance(duration, int) or isinstance(duration, bool) or duration != minutes):
        raise refuse(f"Appointment duration should be {minutes} minutes as configured for the service.")
    slots = capacity.appointment_slots(sandbox.state, job.payload.get("storeId", ""), minutes, start,
                                       start + timedelta(minutes=minutes), now, exclude_job=job.job_id)
    if not any(s == start and c > 0 for s, _, c in slots):
        raise refuse("Appointment slot is not available.")
    return {"appointmentId": f"{job.job_id}_{uuid.uuid4()}", "appointmentStatus": "ACTIVE",
            "appointmentTime": {"startTime": iso_z(start), "durationInMinutes": minutes}}


def add_appointment(sandbox: Sandbox, request: Request, job_id: str) -> tuple[int, Any]:
    if not _job_id_ok(job_id):
        raise fail(400, rules.missing(["serviceJobId"]))
    raw_start, duration = _appointment_time(request.get_json(silent=True))
    state = sandbox.state
    with state.lock:
        job = _job(state, job_id, f"No job exist with jobId : {job_id}")
        if job.status not in ("NOT_SERVICED", "PENDING_SCHEDULE"):
            raise _not_allowed(job)
        if any(a.get("appointmentStatus") == "ACTIVE" for a in job.payload.get("appointments") or []):
            raise fail(422, rules.err(f"Failed to add appointment for jobId : {job_id}, "
                                      "reason : Job already has an active appointmentId."))
        appointment = _book(sandbox, job, raw_start, duration)
        job.payload.setdefault("appointments", []).append(appointment)
        job.payload["serviceJobStatus"] = "NOT_SERVICED"
        job.updated_at = sandbox.clock.now()
    return 200, {"appointmentId": appointment["appointmentId"]}


def reschedule_appointment(sandbox: Sandbox, request: Request, job_id: str, appointment_id: str) -> tuple[int, Any]:
    bad = [n for n, v in (("serviceJobId", job_id), ("appointmentId", appointment_id)) if not _job_id_ok(v)]
    if bad:
        raise fail(400, rules.missing(bad))
    body = request.get_json(silent=True)
    raw_start, duration = _appointment_time(body)
    code = body.get("rescheduleReasonCode")
    if not isinstance(code, str) or not code:
        raise fail(400, rules.missing(["rescheduleReasonCode"]))
    state = sandbox.state
    with state.lock:
        job = _job(state, job_id, f"No job exist with jobId : {job_id}")
        if job.status != "NOT_SERVICED":
            raise _not_allowed(job)
        old = job.appointment(appointment_id)
        if old is None or old.get("appointmentStatus") != "ACTIVE":
            raise fail(422, rules.err(f"Failed to add appointment for jobId : {job_id}, reason : "
                                      f"No active appointment exists with appointmentId: {appointment_id}"))
        if code not in {r.code for r in reschedule_reasons(job.payload.get("marketplaceId", ""))}:
            raise fail(422, rules.err(f"Failed to add appointment for jobId : {job_id}, "
                                      "reason : Appointment reschedule reason code is not valid."))
        appointment = _book(sandbox, job, raw_start, duration)
        appointment["rescheduledAppointmentId"] = appointment_id
        old["appointmentStatus"] = "CANCELLED"
        job.payload["appointments"].append(appointment)
        job.updated_at = sandbox.clock.now()
        dropped = [t["technicianId"] for t in old.get("assignedTechnicians") or []]
    out: dict[str, Any] = {"appointmentId": appointment["appointmentId"]}
    if dropped:
        out["warnings"] = [{"code": "RESOURCES_UNASSIGNED", "message": f"Unassigned resources : {','.join(dropped)}"}]
    return 200, out


def _busy_elsewhere(state: SandboxState, job: SandboxJob, appt: dict[str, Any], tech: str) -> bool:
    start = rules.parse_time(appt["appointmentTime"]["startTime"])
    assert start is not None
    end = start + timedelta(minutes=int(appt["appointmentTime"]["durationInMinutes"]))
    for other in state.jobs.values():
        for a in other.payload.get("appointments") or []:
            if other is job or a.get("appointmentStatus") != "ACTIVE":
                continue
            if tech not in {t.get("technicianId") for t in a.get("assignedTechnicians") or []}:
                continue
            s = rules.parse_time(a["appointmentTime"]["startTime"])
            if s is not None and s < end and start < s + timedelta(minutes=int(a["appointmentTime"]
                                                                             ["durationInMinutes"])):
                return True
    return False


def assign_resources(sandbox: Sandbox, request: Request, job_id: str, appointment_id: str) -> tuple[int, Any]:
    bad = sorted(n for n, v in (("serviceJobId", job_id), ("appointmentId", appointment_id)) if not _job_id_ok(v))
    if bad:
        raise fail(400, rules.missing(bad))
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "resources" not in body:
        raise fail(400, rules.err(NBSP.join("Resources not provided in input JSON payload.".split())))
    resources = body["resources"]
    if not isinstance(resources, list) or not resources:
        raise fail(400, rules.err(NBSP.join("Resources must have size greater than or equal to 1.".split())))
    state = sandbox.state
    with state.lock:
        job = _job(state, job_id, f"No job exists with jobId : {job_id}")
        if job.status in ("COMPLETED", "CANCELLED"):
            raise _not_allowed(job)
        appt = job.appointment(appointment_id)
        if appt is None:
            raise fail(422, rules.err(f"Failed to Update Appointment for jobId : {job_id}, appointmentId : "
                                      f"{appointment_id}, reason : No appointment exists with appointmentId: "
                                      f"{appointment_id}"))
        if appt.get("appointmentStatus") != "ACTIVE":
            raise fail(422, rules.err(f"Appointment metadata update is not allowed for appointmentId {appointment_id}"))
        # As the model's own case shows, an entry without a resourceId is passed over.
        ids = [r["resourceId"] for r in resources if isinstance(r, dict) and r.get("resourceId")]
        for rid in ids:
            if not isinstance(rid, str) or not rules.RESOURCE_ID.match(rid) or rid not in state.technicians:
                raise fail(422, rules.err(f"Invalid resourceId : {rid} provided in the input."))
        ids = list(dict.fromkeys(ids))
        cal = capacity.calendar(state, job.payload.get("storeId", ""))
        elsewhere = [rid for rid in ids if cal is not None and cal.technicians and rid not in cal.technicians
                     and any(rid in c.technicians for c in state.calendars.values())]
        if elsewhere:
            raise fail(422, rules.err("Resources are not available in the store. Applicable resources: "
                                      + ",".join(elsewhere), code="RESOURCES_NOT_AVAILABLE_IN_LOCATION"))
        if not ids:
            return 200, {}
        overbooked = [rid for rid in ids if _busy_elsewhere(state, job, appt, rid)]
        appt["assignedTechnicians"] = [{"technicianId": rid, "name": state.technicians.get(rid, "")} for rid in ids]
        job.updated_at = sandbox.clock.now()
    if overbooked:
        return 200, {"payload": {"warnings": [{"code": "RESOURCES_OVERBOOKED",
                                               "message": "Resources overbooked for this time window."}]}}
    return 200, {}
