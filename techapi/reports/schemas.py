"""Shapes of the reports."""

from marshmallow import Schema, fields, validate

from techapi.edge.times import Day


class TechnicianReportQuerySchema(Schema):
    from_ = Day(required=True, data_key="from", metadata={"description": "First day, in your time zone"})
    to = Day(required=True, metadata={"description": "Last day, inclusive (at most 92 days in all)"})
    storeId = fields.String(validate=validate.Length(min=1, max=100),
                            metadata={"description": "One store (default: every store you oversee)"})


class TechnicianFiguresSchema(Schema):
    technicianId = fields.String(required=True, attribute="technician_id")
    name = fields.String(allow_none=True)
    jobsAssigned = fields.Integer(required=True, attribute="jobs_assigned", metadata={
        "description": "Jobs whose current appointment starts in the range and names the technician"})
    startedOnTime = fields.Integer(required=True, attribute="started_on_time", metadata={
        "description": "Of those, recorded start within the appointment window, give or take the grace"})
    completedWithinWindow = fields.Integer(required=True, attribute="completed_within_window", metadata={
        "description": "Of those, recorded finish within the appointment window (no grace)"})
    rescheduled = fields.Integer(required=True, metadata={"description": "Reschedules made in the range"})
    rescheduledByReason = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                                      attribute="rescheduled_by_reason",
                                      metadata={"description": "Reschedules by reason code (RS11, ...)"})
    noShows = fields.Integer(required=True, attribute="no_shows", metadata={
        "description": "Customer not there: RS11 reschedules plus no-show cancellations (S1)"})
    medianOnSiteMinutes = fields.Float(allow_none=True, required=True, attribute="median_on_site_minutes",
                                       metadata={"description": "Median of recorded finish minus start"})
    timeOffMinutes = fields.Integer(required=True, attribute="time_off_minutes", metadata={
        "description": "Active BREAK, VACATION, TRAINING and TRAVEL reservations, clipped to the range"})


class TechnicianReportSchema(Schema):
    from_ = fields.Date(required=True, data_key="from", attribute="scope.first")
    to = fields.Date(required=True, attribute="scope.last")
    timezone = fields.String(required=True, attribute="scope.timezone",
                             metadata={"description": "The time zone the days are counted in"})
    storeIds = fields.List(fields.String(), allow_none=True, required=True, attribute="scope.store_ids",
                           metadata={"description": "The stores covered; null: every store"})
    graceMinutes = fields.Integer(required=True, attribute="grace_minutes",
                                  metadata={"description": "TECHAPI_ONTIME_GRACE_MINUTES"})
    noShowRescheduleCodes = fields.List(fields.String(), required=True, attribute="no_show_reschedule_codes")
    noShowCancellationCodes = fields.List(fields.String(), required=True, attribute="no_show_cancellation_codes")
    technicians = fields.List(fields.Nested(TechnicianFiguresSchema), required=True)
