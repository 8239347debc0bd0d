"""Shapes of slots, bookings and reschedule reasons."""

from marshmallow import Schema, fields, validate

from techapi.edge.times import Moment

WINDOW = "ISO 8601 date-time with a UTC offset"


class SlotsQuerySchema(Schema):
    start = Moment(data_key="from", metadata={"description": f"{WINDOW}; default now"})
    end = Moment(data_key="to", metadata={"description": f"{WINDOW}; default 7 days after `from`, "
                                                         "at most 90 days after it"})


class StoreSlotsQuerySchema(SlotsQuerySchema):
    asin = fields.String(required=True, validate=validate.Length(1, 20),
                         metadata={"description": "The service's ASIN"})


class SlotSchema(Schema):
    start = fields.DateTime(required=True, metadata={"description": "UTC"})
    end = fields.DateTime(required=True, metadata={"description": "UTC"})
    startLocal = fields.DateTime(required=True, attribute="start_local",
                                 metadata={"description": "In your time zone"})
    endLocal = fields.DateTime(required=True, attribute="end_local", metadata={"description": "In your time zone"})
    capacity = fields.Integer(required=True, metadata={"description": "Appointments the slot can still take"})


class SlotsSchema(Schema):
    timezone = fields.String(required=True, metadata={"description": "Your time zone (the local times')"})
    start = fields.DateTime(allow_none=True, data_key="from")
    end = fields.DateTime(allow_none=True, data_key="to")
    fetchedAt = fields.DateTime(required=True, attribute="fetched_at",
                                metadata={"description": "When SP-API was asked: answers are kept up to 60 s"})
    slots = fields.List(fields.Nested(SlotSchema), required=True,
                        metadata={"description": "Slots with capacity, in start order"})


class AddAppointmentSchema(Schema):
    start = Moment(required=True, metadata={"description": f"{WINDOW}: the start of a slot"})
    durationMinutes = fields.Integer(
        validate=validate.Range(1, 1440), attribute="duration",
        metadata={"description": "Default: the service's configured duration (SP-API refuses any other)"})


class RescheduleSchema(AddAppointmentSchema):
    reasonCode = fields.String(required=True, validate=validate.Length(1, 10), attribute="reason_code",
                               metadata={"description": "A code of GET /v1/reschedule-reasons for the job"})


class WarningSchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)


class NewAppointmentSchema(Schema):
    appointmentId = fields.String(required=True, attribute="appointment_id")
    status = fields.String(allow_none=True)
    start = fields.DateTime(allow_none=True)
    end = fields.DateTime(allow_none=True)
    durationInMinutes = fields.Integer(allow_none=True, attribute="duration_minutes")


class BookingSchema(Schema):
    serviceJobId = fields.String(required=True, attribute="service_job_id")
    appointment = fields.Nested(NewAppointmentSchema, required=True)
    technicianIds = fields.List(fields.String(), required=True, attribute="technician_ids",
                                metadata={"description": "Empty after a reschedule: SP-API drops the technicians "
                                                         "(see the RESOURCES_UNASSIGNED warning)"})
    warnings = fields.List(fields.Nested(WarningSchema), required=True,
                           metadata={"description": "SP-API's warnings, e.g. RESOURCES_UNASSIGNED"})


class ReasonsQuerySchema(Schema):
    serviceJobId = fields.String(required=True, validate=validate.Length(1, 100))


class ReasonSchema(Schema):
    code = fields.String(required=True)
    description = fields.String(required=True)


class ReasonsSchema(Schema):
    serviceJobId = fields.String(required=True, attribute="service_job_id")
    marketplaceId = fields.String(allow_none=True, attribute="marketplace_id")
    reasons = fields.List(fields.Nested(ReasonSchema), required=True)
