"""Store schedules and capacity, and time off (reservations of a store's capacity)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from techapi.apidoc import error_answers
from techapi.auth.guard import current_user, login_required
from techapi.capacity import services, stores
from techapi.capacity.access import check_store
from techapi.capacity.models import Reservation
from techapi.capacity.schemas import (
    CapacityQuerySchema,
    CapacitySchema,
    MoveSchema,
    ReservationListSchema,
    ReservationQuerySchema,
    ReservationSchema,
    ScheduleResultSchema,
    ScheduleSchema,
    StoreReservationSchema,
    TimeOffSchema,
)
from techapi.context import deps
from techapi.db import get_session
from techapi.idempotency.decorator import idempotent

blp = Blueprint("capacity", __name__, url_prefix="/v1", description="Store schedules, capacity and time off")
answers = error_answers(blp, {
    403: "You do not oversee this store, or your role may not do this",
    404: "No such reservation, or not yours",
    409: "The time off overlaps the technician's appointments (named), or the reservation changed meanwhile",
    422: "The request did not validate, or SP-API refused it (its message)",
    503: "SP-API is unavailable; nothing was changed (Retry-After)",
})


@blp.route("/stores/<string:storeId>/schedule")
class StoreSchedule(MethodView):
    @blp.doc(operationId="replaceStoreSchedule")
    @login_required()
    @idempotent
    @blp.arguments(ScheduleSchema)
    @blp.response(200, ScheduleResultSchema)
    @answers(401, 403, 422, 503)
    def put(self, body: dict[str, Any], storeId: str) -> dict[str, Any]:
        """Replace the store's whole schedule on SP-API (updateSchedule)

        A supervisor or admin replaces the store's whole weekly schedule on SP-API (updateSchedule).
        """
        warnings = stores.replace_schedule(deps().spapi, current_user(), storeId, body["schedules"])
        return {"storeId": storeId, "warnings": warnings}


@blp.route("/stores/<string:storeId>/capacity")
class StoreCapacity(MethodView):
    @blp.doc(operationId="getStoreCapacity")
    @login_required()
    @blp.arguments(CapacityQuerySchema, location="query")
    @blp.response(200, CapacitySchema)
    @answers(401, 403, 422, 503)
    def get(self, args: dict[str, Any], storeId: str) -> stores.StoreCapacity:
        """The store's capacity from SP-API: runs per type, or fixed slots with slotMinutes (every page)

        The store's capacity from SP-API over a time range: runs per capacity type, or fixed slots with their
        length, all pages followed.
        """
        return stores.capacity(deps().spapi, current_user(), storeId, args["from_"], args["to"],
                               args.get("types"), args.get("slotMinutes"))


@blp.route("/me/time-off")
class MyTimeOff(MethodView):
    @blp.doc(operationId="listMyTimeOff")
    @login_required()
    @blp.response(200, ReservationListSchema)
    @answers(401, 403, 422)
    def get(self) -> dict[str, list[Reservation]]:
        """My time off, cancelled included, by start

        The caller's time off, cancelled entries included, ordered by start.
        """
        return {"reservations": services.mine(get_session(), current_user())}

    @blp.doc(operationId="createMyTimeOff")
    @login_required()
    @idempotent
    @blp.arguments(TimeOffSchema)
    @blp.response(201, ReservationSchema)
    @answers(401, 403, 409, 422, 503)
    def post(self, body: dict[str, Any]) -> Reservation:
        """Take time off: a reservation of my home store's capacity on SP-API

        Take time off: a reservation of the caller's home store's capacity on SP-API; 409 when it overlaps the
        caller's appointments (named in the answer).
        """
        user, session = current_user(), get_session()
        return services.create(deps(), session, user, services.home_store(user), user.technician_id,
                               body["type"], body["start"], body["end"], body.get("notes"), body["force"])


@blp.route("/me/time-off/<string:reservationId>")
class MyTimeOffById(MethodView):
    @blp.doc(operationId="updateMyTimeOff")
    @login_required()
    @idempotent
    @blp.arguments(MoveSchema)
    @blp.response(200, ReservationSchema)
    @answers(401, 403, 404, 409, 422, 503)
    def patch(self, body: dict[str, Any], reservationId: str) -> Reservation:
        """Move my time off (updateReservation): the id stays, SP-API's reservationId changes

        Move the caller's time off (updateReservation). Our ID stays; SP-API's reservationId changes.
        """
        user, session = current_user(), get_session()
        row = services.find_mine(session, user, reservationId)
        return services.move(deps(), session, user, row, body["start"], body["end"], body["force"])

    @blp.doc(operationId="cancelMyTimeOff")
    @login_required()
    @idempotent
    @blp.response(200, ReservationSchema)
    @answers(401, 403, 404, 409, 422, 503, e409="The time off is over; it stays on the record")
    def delete(self, reservationId: str) -> Reservation:
        """Cancel my time off (cancelReservation); cancelling twice is fine

        Cancel the caller's time off on SP-API (cancelReservation); cancelling twice is fine, time off that is over
        stays (409).
        """
        user, session = current_user(), get_session()
        return services.cancel(deps(), session, user, services.find_mine(session, user, reservationId))


@blp.route("/stores/<string:storeId>/reservations")
class StoreReservations(MethodView):
    @blp.doc(operationId="listStoreReservations")
    @login_required()
    @blp.arguments(ReservationQuerySchema, location="query")
    @blp.response(200, ReservationListSchema)
    @answers(401, 403, 422)
    def get(self, args: dict[str, Any], storeId: str) -> dict[str, list[Reservation]]:
        """Every reservation of the store (time off of its technicians, store-wide ones), by start

        Every reservation of the store, its technicians' time off and store-wide ones, ordered by start.
        """
        return {"reservations": services.of_store(get_session(), current_user(), storeId, args.get("from_"),
                                                  args.get("to"), args.get("technicianId"))}

    @blp.doc(operationId="createStoreReservation")
    @login_required()
    @idempotent
    @blp.arguments(StoreReservationSchema)
    @blp.response(201, ReservationSchema)
    @answers(401, 403, 409, 422, 503)
    def post(self, body: dict[str, Any], storeId: str) -> Reservation:
        """Reserve the store's capacity: a technician's time off, or store-wide without technicianId

        A supervisor reserves the store's capacity on SP-API: a technician's time off with technicianId, store-wide
        without.
        """
        user, session = current_user(), get_session()
        check_store(user, storeId)
        technician_id = body.get("technicianId")
        if technician_id is not None:
            services.technician_of_store(session, storeId, technician_id)
        return services.create(deps(), session, user, storeId, technician_id, body["type"], body["start"],
                               body["end"], body.get("notes"), body["force"])


@blp.route("/stores/<string:storeId>/reservations/<string:reservationId>")
class StoreReservationById(MethodView):
    @blp.doc(operationId="updateStoreReservation")
    @login_required()
    @idempotent
    @blp.arguments(MoveSchema)
    @blp.response(200, ReservationSchema)
    @answers(401, 403, 404, 409, 422, 503)
    def patch(self, body: dict[str, Any], storeId: str, reservationId: str) -> Reservation:
        """Move a reservation of the store (updateReservation): the id stays, SP-API's changes

        Move a reservation of the store (updateReservation). Our ID stays; SP-API's reservationId changes.
        """
        user, session = current_user(), get_session()
        row = services.find_in_store(session, user, storeId, reservationId)
        return services.move(deps(), session, user, row, body["start"], body["end"], body["force"])

    @blp.doc(operationId="cancelStoreReservation")
    @login_required()
    @idempotent
    @blp.response(200, ReservationSchema)
    @answers(401, 403, 404, 409, 422, 503, e409="The time off is over; it stays on the record")
    def delete(self, storeId: str, reservationId: str) -> Reservation:
        """Cancel a reservation of the store (cancelReservation)

        Cancel a reservation of the store on SP-API (cancelReservation); cancelling twice is fine.
        """
        user, session = current_user(), get_session()
        return services.cancel(deps(), session, user, services.find_in_store(session, user, storeId,
                                                                             reservationId))
