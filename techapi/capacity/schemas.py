"""Shapes of store schedules, capacity and reservations (time off)."""

from marshmallow import Schema, ValidationError, fields, validate
from webargs.fields import DelimitedList

from techapi.capacity.models import ReservationKind, ReservationStatus
from techapi.edge.times import Moment
from techapi.spapi.plans import CAPACITY_TYPES, DAYS_OF_WEEK, MAX_SLOT_DURATION, MIN_SLOT_DURATION

KINDS = [k.value for k in ReservationKind]


def _multiple_of_5(minutes: int) -> None:
    if minutes % 5:
        raise ValidationError("Must be a multiple of 5.")


class RecurrenceSchema(Schema):
    end = Moment(required=True, metadata={"description": "Last time an occurrence may start"})
    daysOfWeek = fields.List(fields.String(validate=validate.OneOf(DAYS_OF_WEEK)), validate=validate.Length(max=7))
    daysOfMonth = fields.List(fields.Integer(validate=validate.Range(1, 31)), validate=validate.Length(max=31))


class AvailabilitySchema(Schema):
    start = Moment(required=True)
    end = Moment(required=True)
    capacity = fields.Integer(validate=validate.Range(1, 10_000),
                              metadata={"description": "Technicians available; SP-API's default is 1"})
    recurrence = fields.Nested(RecurrenceSchema, metadata={"description": "Repeats start..end on these days"})


class ScheduleSchema(Schema):
    schedules = fields.List(fields.Nested(AvailabilitySchema), required=True, validate=validate.Length(max=100),
                            metadata={"description": "The store's whole schedule (replaces the one on SP-API; "
                                                     "an empty one is invalid)"})


class ScheduleResultSchema(Schema):
    storeId = fields.String(required=True)
    warnings = fields.List(fields.String(), required=True, metadata={"description": "SP-API's warnings, "
                                                                                   "e.g. ScheduleOverride"})


class CapacityQuerySchema(Schema):
    from_ = Moment(required=True, data_key="from")
    to = Moment(required=True)
    types = DelimitedList(fields.String(validate=validate.OneOf(CAPACITY_TYPES)),
                          metadata={"description": "Comma-separated capacity types; default all four"})
    slotMinutes = fields.Integer(
        validate=[validate.Range(MIN_SLOT_DURATION, MAX_SLOT_DURATION),
                  _multiple_of_5],
        metadata={"description": "Fixed slots of this length (getFixedSlotCapacity), a multiple of 5 in 5..360, "
                                 "at most 3000 slots; "
                                 "without it, runs of constant capacity (getRangeSlotCapacity)"})


class RunSchema(Schema):
    start = fields.DateTime(required=True)
    end = fields.DateTime(required=True)
    capacity = fields.Integer(required=True)


class CapacityRunsSchema(Schema):
    type = fields.String(required=True, metadata={"enum": list(CAPACITY_TYPES)})
    slots = fields.List(fields.Nested(RunSchema), required=True)


class FixedSlotSchema(Schema):
    start = fields.DateTime(required=True)
    end = fields.DateTime(required=True)
    scheduled = fields.Integer(allow_none=True)
    available = fields.Integer(allow_none=True)
    encumbered = fields.Integer(allow_none=True, metadata={"description": "Taken by appointments"})
    reserved = fields.Integer(allow_none=True, metadata={"description": "Taken by reservations (time off)"})


class CapacitySchema(Schema):
    storeId = fields.String(required=True, attribute="store_id")
    start = fields.DateTime(required=True)
    end = fields.DateTime(required=True)
    slotMinutes = fields.Integer(allow_none=True, attribute="slot_minutes")
    capacities = fields.List(fields.Nested(CapacityRunsSchema), required=True,
                             metadata={"description": "Without slotMinutes: runs of constant capacity per type"})
    slots = fields.List(fields.Nested(FixedSlotSchema), allow_none=True,
                        metadata={"description": "With slotMinutes: one entry per slot"})


class TimeOffSchema(Schema):
    start = Moment(required=True)
    end = Moment(required=True)
    type = fields.String(required=True, validate=validate.OneOf(KINDS))
    notes = fields.String(validate=validate.Length(max=500))
    force = fields.Boolean(load_default=False, metadata={"description": "Supervisors and admins: take the time "
                                                                         "off even over the technician's "
                                                                         "appointments"})


class StoreReservationSchema(TimeOffSchema):
    technicianId = fields.String(validate=validate.Length(1, 50), metadata={
        "description": "Whose time off; leave out for a store-wide reservation"})


class MoveSchema(Schema):
    start = Moment(required=True)
    end = Moment(required=True)
    force = fields.Boolean(load_default=False)


class ReservationQuerySchema(Schema):
    from_ = Moment(data_key="from", metadata={"description": "Only reservations ending after this"})
    to = Moment(metadata={"description": "Only reservations starting before this"})
    technicianId = fields.String(validate=validate.Length(1, 50))


class ReservationSchema(Schema):
    id = fields.String(required=True, metadata={"description": "techapi's id: it never changes"})
    storeId = fields.String(required=True, attribute="store_id")
    technicianId = fields.String(allow_none=True, attribute="technician_id")
    type = fields.String(required=True, attribute="kind", metadata={"enum": KINDS})
    start = fields.DateTime(required=True)
    end = fields.DateTime(required=True)
    notes = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={"enum": [s.value for s in ReservationStatus]})
    spapiReservationId = fields.String(allow_none=True, attribute="spapi_reservation_id",
                                       metadata={"description": "SP-API's id: a new one after every change"})
    createdAt = fields.DateTime(required=True, attribute="created_at")
    updatedAt = fields.DateTime(required=True, attribute="updated_at")
    cancelledAt = fields.DateTime(allow_none=True, attribute="cancelled_at")
    version = fields.Integer(required=True)


class ReservationListSchema(Schema):
    reservations = fields.List(fields.Nested(ReservationSchema), required=True)
