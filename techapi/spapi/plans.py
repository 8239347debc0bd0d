"""Operations we use and their default usage plans, as the SP-API Services v1 model states."""

from __future__ import annotations

from dataclasses import dataclass

from techapi.spapi.types import JobStatus


@dataclass(frozen=True)
class UsagePlan:
    rate: float  # requests per second
    burst: int


GET_SERVICE_JOBS = "getServiceJobs"
GET_SERVICE_JOB = "getServiceJobByServiceJobId"
CREATE_UPLOAD_DESTINATION = "createServiceDocumentUploadDestination"
SET_FULFILLMENT_DATA = "setAppointmentFulfillmentData"
COMPLETE_SERVICE_JOB = "completeServiceJobByServiceJobId"
CANCEL_SERVICE_JOB = "cancelServiceJobByServiceJobId"
GET_APPOINTMENT_SLOTS = "getAppointmentSlots"
GET_JOB_APPOINTMENT_SLOTS = "getAppointmmentSlotsByJobId"  # sic: the model's spelling
ADD_APPOINTMENT = "addAppointmentForServiceJobByServiceJobId"
RESCHEDULE_APPOINTMENT = "rescheduleAppointmentForServiceJobByServiceJobId"
ASSIGN_RESOURCES = "assignAppointmentResources"
UPDATE_SCHEDULE = "updateSchedule"
CREATE_RESERVATION = "createReservation"
UPDATE_RESERVATION = "updateReservation"
CANCEL_RESERVATION = "cancelReservation"
GET_RANGE_CAPACITY = "getRangeSlotCapacity"
GET_FIXED_CAPACITY = "getFixedSlotCapacity"

USAGE_PLANS: dict[str, UsagePlan] = {
    GET_SERVICE_JOBS: UsagePlan(10, 40),
    GET_SERVICE_JOB: UsagePlan(20, 40),
    CREATE_UPLOAD_DESTINATION: UsagePlan(5, 20),
    SET_FULFILLMENT_DATA: UsagePlan(5, 20),
    COMPLETE_SERVICE_JOB: UsagePlan(5, 20),
    CANCEL_SERVICE_JOB: UsagePlan(5, 20),
    GET_APPOINTMENT_SLOTS: UsagePlan(20, 40),
    GET_JOB_APPOINTMENT_SLOTS: UsagePlan(5, 20),
    ADD_APPOINTMENT: UsagePlan(5, 20),
    RESCHEDULE_APPOINTMENT: UsagePlan(5, 20),
    ASSIGN_RESOURCES: UsagePlan(1, 2),
    UPDATE_SCHEDULE: UsagePlan(5, 20),
    CREATE_RESERVATION: UsagePlan(5, 20),
    UPDATE_RESERVATION: UsagePlan(5, 20),
    CANCEL_RESERVATION: UsagePlan(5, 20),
    GET_RANGE_CAPACITY: UsagePlan(5, 20),
    GET_FIXED_CAPACITY: UsagePlan(5, 20),
}

JOB_STATUSES = tuple(s.value for s in JobStatus)
DOCUMENT_CONTENT_TYPES = ("TIFF", "JPG", "PNG", "JPEG", "GIF", "PDF")
MAX_DOCUMENT_BYTES = 5_242_880
POA_TYPES = ("NO_SIGNATURE_DUMMY_POS", "CUSTOMER_SIGNATURE", "DUMMY_RECEIPT", "POA_RECEIPT")
MAX_PAGE_SIZE = 20

RESERVATION_TYPES = ("APPOINTMENT", "TRAVEL", "VACATION", "BREAK", "TRAINING")
CAPACITY_TYPES = ("SCHEDULED_CAPACITY", "AVAILABLE_CAPACITY", "ENCUMBERED_CAPACITY", "RESERVED_CAPACITY")
DAYS_OF_WEEK = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
MAX_SLOT_RANGE_DAYS = 90  # getAppointmentSlots / getAppointmmentSlotsByJobId
MIN_SLOT_DURATION, MAX_SLOT_DURATION = 5, 360  # getFixedSlotCapacity's slotDuration, a multiple of 5
