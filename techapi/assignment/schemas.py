"""Assignment requests and where they stand."""

from marshmallow import Schema, fields, validate

from techapi.assignment.models import AssignmentStatus

TECHNICIAN_ID = validate.Regexp(r"^[A-Za-z0-9\-_.]{1,50}$", error="1-50 letters, digits, - _ .")


class AssignSchema(Schema):
    technicianIds = fields.List(
        fields.String(validate=TECHNICIAN_ID), required=True, validate=validate.Length(min=1, max=20),
        metadata={"description": "SP-API technicianIds, replacing whoever is on the active appointment"})


class AssignmentBriefSchema(Schema):
    """An assignment.models.Assignment, as the job detail shows it."""

    status = fields.String(required=True, metadata={"enum": [s.value for s in AssignmentStatus]})
    technicianIds = fields.List(fields.String(), required=True, attribute="technician_ids")
    error = fields.String(allow_none=True, required=True,
                          metadata={"description": "SP-API's message when the assignment FAILED"})
    requestedAt = fields.DateTime(required=True, attribute="requested_at")


class AssignmentSchema(AssignmentBriefSchema):
    serviceJobId = fields.String(required=True, attribute="service_job_id")
    appointmentId = fields.String(required=True, attribute="appointment_id")
    doneAt = fields.DateTime(allow_none=True, required=True, attribute="done_at")


class AssignedTechnicianSchema(Schema):
    technicianId = fields.String(required=True, attribute="technician_id")
    name = fields.String(allow_none=True)


class TechnicianStateSchema(Schema):
    """An assignment.services.TechnicianState."""

    serviceJobId = fields.String(required=True, attribute="job.service_job_id")
    appointmentId = fields.String(allow_none=True, required=True, attribute="job.appointment_id",
                                  metadata={"description": "The job's current appointment"})
    technicians = fields.List(fields.Nested(AssignedTechnicianSchema), required=True,
                              metadata={"description": "On the current appointment, as techapi last knew"})
    assignment = fields.Nested(AssignmentSchema, allow_none=True, required=True,
                               metadata={"description": "The latest assignment request, if any"})
