"""A store's time off and other reservations: list, create, move, cancel, through
the capacity services exactly as /v1/stores/{storeId}/reservations calls them.
Times are typed in the supervisor's time zone; a refusal shows on the page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, g, redirect, render_template, request, url_for
from marshmallow import ValidationError as SchemaError
from sqlalchemy.orm import Session

from techapi.appointments.slots import caller_zone
from techapi.capacity import services as capacity
from techapi.capacity.models import Reservation
from techapi.capacity.schemas import KINDS, MoveSchema, StoreReservationSchema
from techapi.clock import as_utc
from techapi.console import choices, session
from techapi.console.pages import blp, local_time, signed_in
from techapi.context import deps
from techapi.db import get_session
from techapi.errors import DomainError

LABELS = {"type": "Type", "technicianId": "Technician", "notes": "Notes", "start": "Start", "end": "End"}


def _page(store_arg: str | None, error: str | None = None, status: int = 200) -> tuple[str, int]:
    db, user = get_session(), g.user
    store, stores = choices.chosen_store(db, user, store_arg)
    rows = capacity.of_store(db, user, store)
    names = choices.technician_names(db, {r.technician_id for r in rows if r.technician_id})
    return render_template("console/time_off.html", store=store, stores=stores, reservations=rows, names=names,
                           technicians=choices.technician_accounts(db, store), kinds=KINDS, error=error,
                           form=request.form if error else {}), status


def _done(store: str, message: str) -> Response:
    response = redirect(url_for("console.time_off", store=store), 303)
    session.flash(response, message, "success")
    return response


def _times(form: Any) -> dict[str, str]:
    tz = caller_zone(g.user, deps())
    return {"start": choices.local_time(form.get("start"), tz, "Start").isoformat(),
            "end": choices.local_time(form.get("end"), tz, "End").isoformat()}


def _load(schema: Any, data: dict[str, Any]) -> dict[str, Any]:
    try:
        return schema.load(data)
    except SchemaError as exc:
        raise choices.schema_message(exc, LABELS) from None


def _acting(action: Callable[[str], Response]) -> Response | tuple[str, int]:
    """Runs a form's action on the store it names; a refusal re-renders the page with why."""
    asked = request.form.get("store") or None
    try:
        store, _ = choices.chosen_store(get_session(), g.user, asked)
        return action(store)
    except DomainError as exc:
        return _page(asked, exc.message, exc.status)


@blp.app_template_filter("local_input")
def local_input(value: datetime) -> str:
    """A UTC time as an <input type=datetime-local> shows it, in the supervisor's time zone."""
    return as_utc(value).astimezone(ZoneInfo(caller_zone(g.user, deps()))).strftime("%Y-%m-%dT%H:%M")


@blp.get("/time-off")
@signed_in
def time_off() -> tuple[str, int]:
    """The store's reservations (time off of its technicians, store-wide ones), by start."""
    return _page(request.args.get("store"))


def _described(db: Session, row: Reservation) -> str:
    """What a flash message says of a reservation: its kind, whose, when."""
    names = choices.technician_names(db, [row.technician_id] if row.technician_id else [])
    who = names.get(row.technician_id, row.technician_id) if row.technician_id else "the whole store"
    return f"{row.kind.lower()} for {who}, {local_time(row.start)} to {local_time(row.end)}"


@blp.post("/time-off")
@signed_in
def create_time_off() -> Response | tuple[str, int]:
    """Reserve the store's capacity: a technician's time off, or store-wide."""
    form = request.form

    def create(store: str) -> Response:
        fields = {"type": form.get("type", ""), "force": form.get("force") == "on", **_times(form)}
        if form.get("technician"):
            fields["technicianId"] = form["technician"]
        if form.get("notes", "").strip():
            fields["notes"] = form["notes"].strip()
        body = _load(StoreReservationSchema(), fields)
        db, technician_id = get_session(), body.get("technicianId")
        if technician_id is not None:
            capacity.technician_of_store(db, store, technician_id)
        row = capacity.create(deps(), db, g.user, store, technician_id, body["type"], body["start"], body["end"],
                              body.get("notes"), body["force"])
        return _done(store, f"Added {_described(db, row)}.")

    return _acting(create)


@blp.post("/time-off/<reservation_id>/move")
@signed_in
def move_time_off(reservation_id: str) -> Response | tuple[str, int]:
    """Move a reservation of the store (its id stays; SP-API's changes)."""

    def move(store: str) -> Response:
        body = _load(MoveSchema(), {**_times(request.form), "force": request.form.get("force") == "on"})
        db = get_session()
        row = capacity.find_in_store(db, g.user, store, reservation_id)
        row = capacity.move(deps(), db, g.user, row, body["start"], body["end"], body["force"])
        return _done(store, f"Moved: {_described(db, row)}.")

    return _acting(move)


@blp.post("/time-off/<reservation_id>/cancel")
@signed_in
def cancel_time_off(reservation_id: str) -> Response | tuple[str, int]:
    """Cancel a reservation of the store; cancelling twice is cancelling once."""

    def cancel(store: str) -> Response:
        db = get_session()
        row = capacity.cancel(deps(), db, g.user, capacity.find_in_store(db, g.user, store, reservation_id))
        return _done(store, f"Cancelled {_described(db, row)}.")

    return _acting(cancel)
