"""Resources (stores): updateSchedule, createReservation, updateReservation,
cancelReservation, getRangeSlotCapacity and getFixedSlotCapacity, on the one
capacity model of capacity.py, with the model's checks and messages.

As in the model, a request SP-API understood but refused for its content is a
200 carrying `errors` (an unknown resourceId, a reservation that does not fit).
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from werkzeug.wrappers import Request

from techapi.spapi import plans
from techapi.spapi.sandbox import capacity, rules
from techapi.spapi.sandbox.capacity_rules import (
    marketplace,
    min_schedule_minutes,
    parse_when,
    record_errors,
    reservation_record,
    utc_seconds,
)
from techapi.spapi.sandbox.routing import fail

if TYPE_CHECKING:
    from techapi.spapi.sandbox.app import Sandbox

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RANGE_PAGE = timedelta(days=35)
FIXED_PAGE_SLOTS = 500
FIXED_FIELDS = {"SCHEDULED_CAPACITY": "scheduledCapacity", "AVAILABLE_CAPACITY": "availableCapacity",
                "ENCUMBERED_CAPACITY": "encumberedCapacity", "RESERVED_CAPACITY": "reservedCapacity"}
UNKNOWN_RESOURCE = {"errors": [{"code": "InvalidInput", "message": "Invalid request parameters: [resourceId]"}]}
NO_CAPACITY = ("Resource does not have sufficient capacity available in the requested time frame. "
               "Please check the schedule and existing reservations.")


def _check_id(value: Any, name: str) -> None:
    if not isinstance(value, str) or not 1 <= len(value) <= 100:
        raise fail(400, rules.missing([name]))


def update_schedule(sandbox: Sandbox, request: Request, resource_id: str) -> tuple[int, Any]:
    _check_id(resource_id, "resourceId")
    market = marketplace(request.args)
    body = request.get_json(silent=True)
    schedules = body.get("schedules") if isinstance(body, dict) else None
    if not isinstance(schedules, list) or not schedules:
        # "There is no way to clear the schedule of a resource; providing an empty schedule is invalid."
        raise fail(400, rules.missing(["schedule"]))
    minimum = min_schedule_minutes(market)
    parsed = [(raw, *record_errors(raw, minimum)) for raw in schedules]
    refused = [{"availability": raw, "errors": [rules.err(m) for m in errors]} for raw, _, errors in parsed if errors]
    state = sandbox.state
    with state.lock:
        if resource_id not in state.stores:
            return 200, UNKNOWN_RESOURCE
        if refused:
            return 200, {"payload": refused}
        cal = capacity.calendar(state, resource_id, create=True)
        assert cal is not None
        records = [rec for _, rec, _ in parsed if rec is not None]
        warned = [{"availability": raw, "warnings": [{
            "code": "ScheduleOverride",
            "message": "This AvailabilityRecord will override the current schedule as the time-ranges overlap"}]}
            for raw, rec, _ in parsed
            if rec is not None and rec not in cal.schedule and any(rec.overlaps(old) for old in cal.schedule)]
        cal.schedule, cal.schedule_raw = records, list(schedules)
        cal.marketplace_id = cal.marketplace_id or market
    return 200, ({"payload": warned} if warned else {})


def _reservation_body(request: Request, *, type_required: bool) -> tuple[str, str, capacity.Record, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise fail(400, rules.missing(["resourceId", "reservation"]))
    resource_id = body.get("resourceId")
    _check_id(resource_id, "resourceId")
    kind, record = reservation_record(body.get("reservation"), type_required=type_required)
    if record is None or kind is None:
        raise fail(400, rules.missing(["reservation"]))
    return resource_id, kind, record, body["reservation"]


def _refuse(reservation: dict[str, Any], kind: str) -> tuple[int, Any]:
    """The model's refusal: a 200 whose payload holds the reservation as sent, and the errors."""
    return 200, {"payload": {"reservation": {**reservation, "type": kind}, "errors": [rules.err(NO_CAPACITY)]}}


def create_reservation(sandbox: Sandbox, request: Request) -> tuple[int, Any]:
    marketplace(request.args)
    resource_id, kind, record, raw = _reservation_body(request, type_required=True)
    state = sandbox.state
    with state.lock:
        if resource_id not in state.stores:
            return 200, UNKNOWN_RESOURCE
        # "Creating a reservation requires that the resource has the requested capacity available."
        if not capacity.fits(state, resource_id, record):
            return _refuse(raw, kind)
        cal = capacity.calendar(state, resource_id, create=True)
        assert cal is not None
        new_id = str(uuid.uuid4())
        made = cal.reservations[new_id] = capacity.Reservation(new_id, kind, record, raw.get("availability"))
    return 200, _made(made)


def _made(reservation: capacity.Reservation) -> dict[str, Any]:
    # The guide shows only the new reservationId; the model's Reservation also requires type and availability.
    return {"payload": {"reservation": {"reservationId": reservation.reservation_id, "type": reservation.kind,
                                        "availability": reservation.raw}}}


def _find(state: Any, reservation_id: str) -> capacity.StoreCalendar | None:
    return next((c for c in state.calendars.values() if reservation_id in c.reservations), None)


def update_reservation(sandbox: Sandbox, request: Request, reservation_id: str) -> tuple[int, Any]:
    _check_id(reservation_id, "reservationId")
    marketplace(request.args)
    resource_id, _, record, raw = _reservation_body(request, type_required=False)
    state = sandbox.state
    with state.lock:
        cal = _find(state, reservation_id)
        if cal is None:
            raise fail(404, rules.err(f"Could not find reservation with ID: [{reservation_id}]"))
        if resource_id != cal.store_id:
            return 200, UNKNOWN_RESOURCE
        old = cal.reservations[reservation_id]
        if not capacity.fits(state, resource_id, record, exclude_reservation=reservation_id):
            return _refuse(raw, old.kind)
        # "A successful call returns a new reservationID ... The previous reservationId can be discarded."
        # Only the times change; the type stays.
        del cal.reservations[reservation_id]
        new_id = str(uuid.uuid4())
        made = cal.reservations[new_id] = capacity.Reservation(new_id, old.kind, record, raw.get("availability"))
    return 200, _made(made)


def cancel_reservation(sandbox: Sandbox, request: Request, reservation_id: str) -> tuple[int, Any]:
    if not UUID.match(reservation_id):
        raise fail(400, rules.missing(["reservationId"]))
    marketplace(request.args)
    state = sandbox.state
    with state.lock:
        cal = _find(state, reservation_id)
        if cal is None:
            raise fail(404, rules.err("Reservation does not exist"))
        del cal.reservations[reservation_id]
    return 204, None


def _invalid(*reasons: str) -> Any:
    return fail(400, rules.err("This is invalid input",
                               details=f"Received the following errors: [{', '.join(reasons)}]"))


def _capacity_query(sandbox: Sandbox, request: Request, resource_id: str, fixed: bool) -> dict[str, Any]:
    if not 1 <= len(resource_id) <= 100:
        raise _invalid("Missing or invalid request parameters: [resourceId]")
    if len([v for raw in request.args.getlist("marketplaceIds") for v in raw.split(",") if v]) != 1:
        raise _invalid("Missing or invalid request parameters: [marketplaceIds]")
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or body.get("startDateTime") is None or body.get("endDateTime") is None:
        raise _invalid("startDateTime or endDateTime are not present")
    start, end = parse_when(body["startDateTime"]), parse_when(body["endDateTime"])
    bad = [f"{k} is not a valid ISO date/time object" for k, v in (("startDateTime", start), ("endDateTime", end))
           if v is None]
    if bad:
        raise _invalid(*bad)
    assert start is not None and end is not None
    if end <= start:
        raise _invalid("endDateTime should be after Start Time")
    types = body.get("capacityTypes") or ["SCHEDULED_CAPACITY"]
    if not isinstance(types, list) or any(t not in plans.CAPACITY_TYPES for t in types):
        raise _invalid("capacityTypes is not valid")
    minutes = body.get("slotDuration", 5) if fixed else 0
    if fixed and (not isinstance(minutes, int | float) or isinstance(minutes, bool)
                  or not plans.MIN_SLOT_DURATION <= minutes <= plans.MAX_SLOT_DURATION
                  or minutes != int(minutes) or int(minutes) % 5):
        raise _invalid("Slot duration is not valid, it should be a multiple of 5 and within allowed range.")
    if resource_id not in sandbox.state.stores:
        raise _invalid("Missing or invalid request parameters: [resourceId]")
    page_start = start
    token = request.args.get("nextPageToken")
    if token:
        try:
            page_start = parse_when(base64.b64decode(unquote(token), validate=True).decode())
        except (binascii.Error, UnicodeDecodeError, ValueError):
            page_start = None
        if page_start is None or not start < page_start < end:
            raise _invalid("nextPageToken is not valid")
    return {"start": start, "end": end, "page_start": page_start, "types": list(dict.fromkeys(types)),
            "minutes": int(minutes)}


def _token(at: Any) -> str:
    return base64.b64encode(utc_seconds(at).encode()).decode()


def get_range_capacity(sandbox: Sandbox, request: Request, resource_id: str) -> tuple[int, Any]:
    q = _capacity_query(sandbox, request, resource_id, fixed=False)
    page_end = min(q["end"], q["page_start"] + RANGE_PAGE)
    with sandbox.state.lock:
        segments = capacity.profile(sandbox.state, resource_id, q["page_start"], page_end)
    out: dict[str, Any] = {"resourceId": resource_id, "capacities": []}
    for kind in q["types"]:
        runs: list[dict[str, Any]] = []
        for seg in segments:
            value = seg.of(kind)
            if runs and runs[-1]["capacity"] == value:
                runs[-1]["endDateTime"] = utc_seconds(seg.end)
            else:
                runs.append({"startDateTime": utc_seconds(seg.start), "endDateTime": utc_seconds(seg.end),
                             "capacity": value})
        out["capacities"].append({"capacityType": kind, "slots": runs})
    if page_end < q["end"]:
        out["nextPageToken"] = _token(page_end)
    return 200, out


def get_fixed_capacity(sandbox: Sandbox, request: Request, resource_id: str) -> tuple[int, Any]:
    q = _capacity_query(sandbox, request, resource_id, fixed=True)
    step = timedelta(minutes=q["minutes"])
    if (q["page_start"] - q["start"]) % step:
        raise _invalid("nextPageToken is not valid")
    page_end = min(q["end"], q["page_start"] + step * FIXED_PAGE_SLOTS)
    with sandbox.state.lock:
        segments = capacity.profile(sandbox.state, resource_id, q["page_start"], page_end + step)
    slots, t = [], q["page_start"]
    while t < page_end:
        slot: dict[str, Any] = {"startDateTime": utc_seconds(t)}
        for kind in q["types"]:
            # A slot offers the least scheduled/available and the most encumbered/reserved inside it.
            pick = capacity.least if kind in ("SCHEDULED_CAPACITY", "AVAILABLE_CAPACITY") else capacity.most
            slot[FIXED_FIELDS[kind]] = pick(segments, t, min(t + step, q["end"]), kind)
        slots.append(slot)
        t += step
    out: dict[str, Any] = {"resourceId": resource_id, "slotDuration": q["minutes"], "capacities": slots}
    if page_end < q["end"]:
        out["nextPageToken"] = _token(page_end)
    return 200, out
