"""The day board and what a supervisor does from it: reschedule a job into one of
its slots with one of the marketplace's reasons, and assign technicians (through
the queue, like PUT /v1/jobs/{id}/technicians). The same services as the API;
a form that fails shows why on its page, with the service's status."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Response, g, jsonify, redirect, render_template, request, url_for
from marshmallow import ValidationError as SchemaError

from techapi.appointments import services as appointments
from techapi.appointments.routes import slot_cache
from techapi.appointments.schemas import RescheduleSchema
from techapi.appointments.slots import caller_zone, job_slots
from techapi.assignment import services as assignment
from techapi.assignment.models import Assignment
from techapi.assignment.schemas import AssignSchema
from techapi.clock import as_utc, local_today
from techapi.console import board as boards
from techapi.console import choices, session
from techapi.console.pages import blp, local_time, signed_in
from techapi.context import deps
from techapi.db import get_session
from techapi.errors import DomainError, ValidationError
from techapi.jobs import services as jobs

LABELS = {"PENDING": "Assigning", "DONE": "Assigned", "FAILED": "Assignment failed"}


def assignment_label(request_: Assignment | None, names: dict[str, str]) -> str:
    """What a job's latest assignment request says on the board (and in the poll's answer)."""
    if request_ is None:
        return ""
    who = ", ".join(names.get(t, t) for t in request_.technician_ids)
    text = f"{LABELS.get(request_.status, request_.status)}: {who}"
    return f"{text} ({request_.error})" if request_.status == "FAILED" and request_.error else text


@blp.app_template_filter("local_day")
def local_day(value: datetime) -> str:
    """The supervisor's calendar day of a UTC time (YYYY-MM-DD), for a board link."""
    return as_utc(value).astimezone(ZoneInfo(caller_zone(g.user, deps()))).date().isoformat()


def _board(store_arg: str | None, date_arg: str | None) -> tuple[boards.Board, list[str]]:
    """The board asked for (a store not the caller's is 403, a bad day 422) and the stores to offer."""
    d, user = deps(), g.user
    tz = caller_zone(user, d)
    store, stores = choices.chosen_store(get_session(), user, store_arg)
    day = choices.day(date_arg, local_today(d.clock, tz))
    return boards.build(get_session(), user, store, day, tz, d.clock.now(),
                        timedelta(minutes=d.settings.ontime_grace_minutes), d.settings.min_photos), stores


def _board_page(store_arg: str | None, date_arg: str | None, error: str | None = None,
                status: int = 200) -> tuple[str, int]:
    found, stores = _board(store_arg, date_arg)
    return render_template("console/board.html", board=found, stores=stores, names=found.names,
                           label=assignment_label, error=error), status


@blp.get("/board")
@signed_in
def board() -> tuple[str, int]:
    """The store's day: a row per technician, and the jobs that need technicians."""
    return _board_page(request.args.get("store"), request.args.get("date"))


@blp.get("/board/assignments")
@signed_in
def board_assignments() -> Response:
    """Where each job's latest assignment stands: what the board's script polls."""
    found, _ = _board(request.args.get("store"), request.args.get("date"))
    return jsonify({"jobs": {job_id: {"status": j.assignment.status,
                                      "label": assignment_label(j.assignment, found.names)}
                             for job_id, j in found.jobs.items() if j.assignment is not None}})


def _back_to_board(store: str | None, day: str | None, message: str) -> Response:
    response = redirect(url_for("console.board", store=store or None, date=day or None), 303)
    session.flash(response, message, "success")
    return response


@blp.post("/jobs/<job_id>/assign")
@signed_in
def assign(job_id: str) -> Response | tuple[str, int]:
    """Assign the chosen technicians to the job's active appointment (queued; the board shows how it goes)."""
    store, day, chosen = request.form.get("store"), request.form.get("date"), request.form.getlist("technician")
    try:
        if not chosen:
            raise ValidationError("Choose at least one technician to assign")
        try:
            ids = AssignSchema().load({"technicianIds": chosen})["technicianIds"]
        except SchemaError as exc:
            raise choices.schema_message(exc, {"technicianIds": "Technicians"}) from None
        made = assignment.request_assignment(deps(), get_session(), g.user, job_id, ids)
    except DomainError as exc:
        return _board_page(store, day, exc.message, exc.status)
    names = choices.technician_names(get_session(), made.technician_ids)
    return _back_to_board(store, day, f"Asked Amazon to assign {', '.join(names[t] for t in made.technician_ids)} "
                                      f"to job {job_id}; the board shows when it is done.")


def _reschedule(job_id: str) -> appointments.Booking:
    start, reason = request.form.get("start", ""), request.form.get("reason", "")
    if not start or not reason:
        raise ValidationError("Choose one of the job's slots" if not start else "Choose a reason from the list")
    try:
        body = RescheduleSchema().load({"start": start, "reasonCode": reason})
    except SchemaError as exc:
        raise choices.schema_message(exc, {"start": "Slot", "reasonCode": "Reason"}) from None
    return appointments.reschedule(deps(), get_session(), slot_cache(), g.user, job_id, body["start"], None,
                                   body["reason_code"])


@blp.route("/jobs/<job_id>/reschedule", methods=["GET", "POST"])
@signed_in
def reschedule(job_id: str) -> Response | tuple[str, int]:
    """Move the job's appointment into one of its slots, with one of the marketplace's reasons."""
    d, user = deps(), g.user
    error, status = None, 200
    if request.method == "POST":
        try:
            booking = _reschedule(job_id)
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            job = jobs.job_for(get_session(), user, job_id)
            start = booking.appointment.start
            new_day = local_day(start) if start else None
            dropped = any(w.code == "RESOURCES_UNASSIGNED" for w in booking.warnings) or not booking.technician_ids
            return _back_to_board(job.store_id, new_day, f"Rescheduled job {job_id} to {local_time(start)}."
                                  + (" Its technicians were dropped: assign them again." if dropped else ""))
    reasons = appointments.valid_reasons(d, get_session(), user, job_id)  # 404 for a job not the caller's
    job = jobs.job_for(get_session(), user, job_id)
    try:
        slots = job_slots(d, get_session(), slot_cache(), user, job_id, None, None).slots
    except DomainError as exc:  # SP-API cannot say, or refuses for this job: the page says why
        slots, error, status = [], error or exc.message, status if error else exc.status
    return render_template("console/reschedule.html", job=job, reasons=reasons.reasons, slots=slots,
                           error=error, chosen=request.form), status
