"""The phone's view of a job: flat, short, with what is still needed."""

from marshmallow import Schema, fields

from techapi.jobs import readiness

NEEDED = [readiness.ACTIVE_APPOINTMENT, readiness.START_TIME, readiness.END_TIME,
          readiness.POA_DOCUMENT, readiness.PHOTOS]


class JobsQuerySchema(Schema):
    date = fields.Date(
        metadata={"description": "Local calendar day (YYYY-MM-DD) in your time zone; default today"}
    )


class AppointmentSchema(Schema):
    appointmentId = fields.String(allow_none=True)
    status = fields.String(allow_none=True, metadata={"enum": ["ACTIVE", "CANCELLED", "COMPLETED"]})
    start = fields.DateTime(allow_none=True)
    end = fields.DateTime(allow_none=True)
    durationInMinutes = fields.Integer(allow_none=True)


class CustomerSchema(Schema):
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


class AddressSchema(Schema):
    oneLine = fields.String(required=True, metadata={"description": "The address on one line"})
    name = fields.String()
    addressLine1 = fields.String()
    addressLine2 = fields.String()
    addressLine3 = fields.String()
    city = fields.String()
    county = fields.String()
    district = fields.String()
    stateOrRegion = fields.String()
    postalCode = fields.String()
    countryCode = fields.String()
    phone = fields.String()


class ScopeSchema(Schema):
    title = fields.String(allow_none=True)
    asin = fields.String(allow_none=True)
    quantity = fields.Integer(allow_none=True)
    requiredSkills = fields.List(fields.String())


class JobSummarySchema(Schema):
    serviceJobId = fields.String(required=True)
    status = fields.String(required=True)
    appointment = fields.Nested(AppointmentSchema, allow_none=True)
    customer = fields.Nested(CustomerSchema, required=True)
    address = fields.Nested(AddressSchema, allow_none=True)
    scope = fields.Nested(ScopeSchema, required=True)
    stillNeeded = fields.List(
        fields.String(metadata={"enum": NEEDED}),
        required=True,
        metadata={"description": "What is missing before the job can be closed; empty when "
                                 "ready or when the job is no longer open"},
    )


class JobListSchema(Schema):
    date = fields.Date(required=True)
    timezone = fields.String(required=True)
    jobs = fields.List(fields.Nested(JobSummarySchema), required=True)


class TechnicianSchema(Schema):
    technicianId = fields.String(required=True)
    name = fields.String(allow_none=True)


class ItemSchema(Schema):
    asin = fields.String()
    title = fields.String()
    quantity = fields.Integer()
    itemStatus = fields.String()
    brandName = fields.String()


class AppointmentWindowSchema(Schema):
    startTime = fields.String()
    durationInMinutes = fields.Integer()


class ClosureBriefSchema(Schema):
    state = fields.String(required=True)
    rejectionReason = fields.String(allow_none=True, metadata={"description": "Why a supervisor sent it back"})
    failureReason = fields.String(allow_none=True)


class JobDetailSchema(JobSummarySchema):
    closure = fields.Nested(ClosureBriefSchema, allow_none=True, required=True)
    serviceOrderId = fields.String(allow_none=True)
    storeId = fields.String(allow_none=True)
    marketplaceId = fields.String(allow_none=True)
    createTime = fields.String(allow_none=True)
    technicians = fields.List(fields.Nested(TechnicianSchema), required=True)
    appointments = fields.List(fields.Nested(AppointmentSchema), required=True,
                               metadata={"description": "Every appointment, including cancelled ones"})
    associatedItems = fields.List(fields.Nested(ItemSchema), required=True)
    preferredAppointmentTimes = fields.List(fields.Nested(AppointmentWindowSchema), required=True)
    syncedAt = fields.DateTime(required=True)
