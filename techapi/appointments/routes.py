"""Appointment slots, adding and rescheduling appointments, reschedule reasons."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from techapi.apidoc import error_answers
from techapi.appointments import services, slots
from techapi.appointments.cache import TtlCache
from techapi.appointments.schemas import (
    AddAppointmentSchema,
    BookingSchema,
    ReasonsQuerySchema,
    ReasonsSchema,
    RescheduleSchema,
    SlotsQuerySchema,
    SlotsSchema,
    StoreSlotsQuerySchema,
)
from techapi.auth.guard import current_user, login_required
from techapi.context import deps
from techapi.db import get_session
from techapi.idempotency.decorator import idempotent

blp = Blueprint("appointments", __name__, url_prefix="/v1", description="Appointment slots and rescheduling")
answers = error_answers(blp, {
    403: "Your role may not do this, or the store is not one of yours",
    409: "The slot was taken meanwhile (fresh slots in `errors.slots`), or the job's appointment state forbids it",
    422: "The request did not validate, or Amazon refused it (its message and `errors.spapi`)",
    503: "Amazon's scheduling service is unavailable (see Retry-After); nothing was changed",
})
CACHE = "techapi.slot_cache"


@blp.record_once
def _one_cache_per_app(state: Any) -> None:
    state.app.extensions[CACHE] = TtlCache()


def slot_cache() -> slots.SlotCache:
    return current_app.extensions[CACHE]


@blp.route("/jobs/<string:serviceJobId>/slots")
class JobSlots(MethodView):
    @blp.doc(operationId="listJobSlots")
    @login_required()
    @blp.arguments(SlotsQuerySchema, location="query")
    @blp.response(200, SlotsSchema)
    @answers(401, 404, 422, 503)
    def get(self, args: dict[str, Any], serviceJobId: str) -> slots.Slots:
        """Slots with capacity for the job's service in its store (kept up to 60 s)

        Free slots for the job's service in the job's store, from SP-API (cached for up to 60 seconds), to offer
        when rescheduling.
        """
        return slots.job_slots(deps(), get_session(), slot_cache(), current_user(), serviceJobId,
                               args.get("start"), args.get("end"))


@blp.route("/stores/<string:storeId>/slots")
class StoreSlots(MethodView):
    @blp.doc(operationId="listStoreSlots")
    @login_required()
    @blp.arguments(StoreSlotsQuerySchema, location="query")
    @blp.response(200, SlotsSchema)
    @answers(401, 403, 422, 503)
    def get(self, args: dict[str, Any], storeId: str) -> slots.Slots:
        """Slots with capacity for a service (ASIN) in one of my stores (kept up to 60 s)

        Free slots for a service (ASIN) in one of the caller's stores, from SP-API (cached for up to 60 seconds).
        """
        return slots.store_slots(deps(), slot_cache(), current_user(), storeId, args["asin"],
                                 args.get("start"), args.get("end"))


@blp.route("/jobs/<string:serviceJobId>/appointments")
class JobAppointments(MethodView):
    @blp.doc(operationId="createAppointment")
    @login_required()
    @idempotent
    @blp.arguments(AddAppointmentSchema)
    @blp.response(200, BookingSchema)
    @answers(401, 403, 404, 409, 422, 503, e409="The job already has an active appointment, or the slot was "
                                                 "taken meanwhile (fresh slots in `errors.slots`)")
    def post(self, body: dict[str, Any], serviceJobId: str) -> services.Booking:
        """Book an appointment for a job without an active one (supervisors)

        A supervisor books an appointment on SP-API for a job that has no active one, in a slot with capacity.
        """
        return services.add(deps(), get_session(), slot_cache(), current_user(), serviceJobId, body["start"],
                            body.get("duration"))


@blp.route("/jobs/<string:serviceJobId>/reschedule")
class Reschedule(MethodView):
    @blp.doc(operationId="rescheduleJob")
    @login_required()
    @idempotent
    @blp.arguments(RescheduleSchema)
    @blp.response(200, BookingSchema)
    @answers(401, 404, 409, 422, 503, e409="The job has no active appointment, or the slot was taken meanwhile "
                                            "(fresh slots in `errors.slots`)",
             e422="A reason code not valid for the job's marketplace (`errors.validCodes`), or Amazon refused "
                  "the time (its message)")
    def post(self, body: dict[str, Any], serviceJobId: str) -> services.Booking:
        """Move the job's appointment, with a reason code (its technician, or a supervisor)

        Move the job's active appointment to another slot on SP-API with a reschedule reason code; the job's
        technician or a supervisor of its store.
        """
        return services.reschedule(deps(), get_session(), slot_cache(), current_user(), serviceJobId,
                                   body["start"], body.get("duration"), body["reason_code"])


@blp.route("/reschedule-reasons")
class RescheduleReasons(MethodView):
    @blp.doc(operationId="listRescheduleReasons")
    @login_required()
    @blp.arguments(ReasonsQuerySchema, location="query")
    @blp.response(200, ReasonsSchema)
    @answers(401, 404)
    def get(self, args: dict[str, str]) -> services.Reasons:
        """The reschedule reason codes valid for a job, with their descriptions

        The reschedule reason codes SP-API accepts for a job, with their descriptions, to offer in a picker.
        """
        return services.valid_reasons(deps(), get_session(), current_user(), args["serviceJobId"])
