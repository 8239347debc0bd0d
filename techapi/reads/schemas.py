"""The phone's view of a job: flat, short, with what is still needed; the detail carries
everything the job screen shows, in the shapes of the endpoints it replaces."""

from typing import Any

from marshmallow import Schema, fields, validate

from techapi.assignment.schemas import AssignmentBriefSchema
from techapi.closures.schemas import CancellationSchema, ClosureSchema
from techapi.edge.times import Day
from techapi.evidence.schemas import DocumentSchema, WorkTimesSchema
from techapi.jobs.readiness import Needed
from techapi.reads import encode
from techapi.spapi.types import AppointmentStatus


class JobsQuerySchema(Schema):
    date = Day(
        metadata={"description": "Local calendar day (YYYY-MM-DD) in your time zone; default today"}
    )
    needs = fields.String(
        validate=validate.OneOf(["assignment"]),
        metadata={"description": "`assignment` (supervisors, admins): only the jobs whose active appointment has "
                                 "no technician and no assignment PENDING, or whose latest assignment FAILED"})


class AppointmentSchema(Schema):
    appointmentId = fields.String(allow_none=True, attribute="appointment_id")
    status = fields.String(allow_none=True, metadata={"enum": [s.value for s in AppointmentStatus]})
    start = fields.DateTime(allow_none=True)
    end = fields.DateTime(allow_none=True)
    durationInMinutes = fields.Integer(allow_none=True, attribute="duration_minutes")


class CustomerSchema(Schema):
    """Read from the job row itself."""

    name = fields.String(allow_none=True, attribute="customer_name")
    phone = fields.String(allow_none=True, attribute="customer_phone")


AddressSchema = Schema.from_dict({
    "oneLine": fields.String(required=True, metadata={"description": "The address on one line"}),
    **{part: fields.String() for part in encode.ADDRESS_PARTS},
}, name="AddressSchema")


class ScopeSchema(Schema):
    title = fields.String(allow_none=True)
    asin = fields.String(allow_none=True)
    quantity = fields.Integer(allow_none=True)
    requiredSkills = fields.List(fields.String(), attribute="required_skills")


class JobSummarySchema(Schema):
    """A reads.jobs.JobSummary."""

    serviceJobId = fields.String(required=True, attribute="job.service_job_id")
    status = fields.String(required=True, attribute="job.status")
    appointment = fields.Nested(AppointmentSchema, allow_none=True)
    customer = fields.Nested(CustomerSchema, required=True, attribute="job")
    address = fields.Nested(AddressSchema, allow_none=True)
    scope = fields.Nested(ScopeSchema, required=True)
    stillNeeded = fields.List(
        fields.String(metadata={"enum": [n.value for n in Needed]}),
        required=True,
        attribute="still_needed",
        metadata={"description": "What is missing before the job can be closed; empty when "
                                 "ready or when the job is no longer open"},
    )


class JobListSchema(Schema):
    date = fields.Date(required=True)
    timezone = fields.String(required=True)
    jobs = fields.List(fields.Nested(JobSummarySchema), required=True)

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        """Written by hand (techapi.reads.encode): the hottest answer of the API."""
        return [encode.job_list(o) for o in obj] if many else encode.job_list(obj)


class TechnicianSchema(Schema):
    technicianId = fields.String(required=True, attribute="technician_id")
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


class JobDocumentSchema(DocumentSchema):
    """A document as GET /v1/jobs/{id}/documents lists it, with where to download it."""

    contentUrl = fields.String(required=True, attribute="content_url",
                               metadata={"description": "Where to download what is sent to Amazon "
                                                        "(same authentication)"})


class JobDetailSchema(JobSummarySchema):
    """A reads.jobs.JobDetail."""

    times = fields.Nested(WorkTimesSchema, required=True,
                          metadata={"description": "The recorded start and finish, as GET .../times returns them"})
    documents = fields.List(fields.Nested(JobDocumentSchema), required=True,
                            metadata={"description": "Photos and POA documents with their upload status and "
                                                     "failure reason, oldest first, as GET .../documents lists them"})
    closure = fields.Nested(ClosureSchema, allow_none=True, required=True,
                            metadata={"description": "As GET .../closure returns it (with its history); "
                                                     "null when no closure was asked for"})
    cancellation = fields.Nested(CancellationSchema, allow_none=True, required=True,
                                 metadata={"description": "As GET .../cancellation returns it; null when none "
                                                          "was asked for"})
    assignment = fields.Nested(AssignmentBriefSchema, allow_none=True, required=True,
                               metadata={"description": "The latest request to assign technicians, if any"})
    serviceOrderId = fields.String(allow_none=True, attribute="job.service_order_id")
    storeId = fields.String(allow_none=True, attribute="job.store_id")
    marketplaceId = fields.String(allow_none=True, attribute="job.marketplace_id")
    createTime = fields.String(allow_none=True, attribute="create_time")
    technicians = fields.List(fields.Nested(TechnicianSchema), required=True)
    appointments = fields.List(fields.Nested(AppointmentSchema), required=True,
                               metadata={"description": "Every appointment, including cancelled ones"})
    associatedItems = fields.List(fields.Nested(ItemSchema), required=True, attribute="associated_items")
    preferredAppointmentTimes = fields.List(fields.Nested(AppointmentWindowSchema), required=True,
                                            attribute="preferred_appointment_times")
    syncedAt = fields.DateTime(required=True, attribute="job.synced_at")


class ChangesQuerySchema(Schema):
    since = fields.String(
        validate=validate.Length(min=1, max=1024),
        metadata={"description": "The `cursor` of your last answer; leave it out to receive the whole window"})


class ChangesSchema(Schema):
    """A reads.changes.Changes."""

    changes = fields.List(fields.Nested(JobSummarySchema), required=True,
                          metadata={"description": "Jobs of the window that changed (all of them when `full`), "
                                                   "in job ID order: replace what you hold for each"})
    removed = fields.List(fields.String(), required=True,
                          metadata={"description": "IDs of jobs that left your view (moved out of the window, "
                                                   "reassigned, moved to another store): drop them; an ID you "
                                                   "do not hold can be ignored"})
    cursor = fields.String(required=True, metadata={"description": "Opaque: send it as `since` next time"})
    hasMore = fields.Boolean(required=True, attribute="has_more",
                             metadata={"description": "More pages of this answer: call again at once with `cursor`"})
    full = fields.Boolean(required=True,
                          metadata={"description": "The pages hold every job of the window (first sync, or the "
                                                   "first of a new day)"})
    windowFrom = fields.Date(required=True, attribute="window_from")
    windowTo = fields.Date(required=True, attribute="window_to",
                           metadata={"description": "Last day of the window, included"})
    timezone = fields.String(required=True)

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        """Written by hand (techapi.reads.encode): every poll of every phone."""
        return [encode.changes(o) for o in obj] if many else encode.changes(obj)
