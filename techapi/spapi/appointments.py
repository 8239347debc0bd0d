"""SP-API appointment operations: slots, add, reschedule, assign resources.

Mixed into SpApiClient (client.py); a 2xx body carrying `errors` is raised as
SpApiUnprocessable like a 422.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from techapi.clock import iso_z
from techapi.spapi import plans
from techapi.spapi.errors import SpApiError, SpApiSlotUnavailable, SpApiUnprocessable, raise_body_errors
from techapi.spapi.scheduling_types import (
    AppointmentResult,
    SlotReport,
    SpApiWarning,
    parse_slot_report,
    parse_warnings,
)
from techapi.spapi.transport import SpApiTransport, path_segment

SLOT_TAKEN = "Appointment slot is not available."


def _window(start: datetime | None, end: datetime | None) -> dict[str, str]:
    if (start is None) != (end is None):
        raise ValueError("give both start and end, or neither")
    if start is None or end is None:
        return {}
    if end <= start:
        raise ValueError("end must be after start")
    if end - start > timedelta(days=plans.MAX_SLOT_RANGE_DAYS):
        raise ValueError(f"at most {plans.MAX_SLOT_RANGE_DAYS} days of slots")
    return {"startTime": iso_z(start), "endTime": iso_z(end)}


def _appointment_time(start: datetime, duration_minutes: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {"startTime": iso_z(start)}
    if duration_minutes is not None:
        if duration_minutes < 1:
            raise ValueError("duration_minutes must be positive")
        out["durationInMinutes"] = duration_minutes
    return out


class AppointmentOperations(SpApiTransport):
    def get_appointment_slots(
        self, asin: str, store_id: str, start: datetime | None = None, end: datetime | None = None
    ) -> SlotReport:
        """Slots for a service (ASIN) in a store; without a window SP-API picks its default."""
        if not asin or not 1 <= len(store_id) <= 100:
            raise ValueError("asin and a storeId of 1..100 characters are required")
        params = {"asin": asin, "storeId": store_id, "marketplaceIds": self.marketplace_id,
                  **_window(start, end)}
        body = self.call(plans.GET_APPOINTMENT_SLOTS, "GET", "/service/v1/appointmentSlots", params=params)
        raise_body_errors(plans.GET_APPOINTMENT_SLOTS, body)
        return parse_slot_report(body.get("payload") or {})

    def get_job_appointment_slots(
        self, service_job_id: str, start: datetime | None = None, end: datetime | None = None
    ) -> SlotReport:
        """getAppointmmentSlotsByJobId: slots for the job's service, in its store."""
        params = {"marketplaceIds": self.marketplace_id, **_window(start, end)}
        body = self.call(plans.GET_JOB_APPOINTMENT_SLOTS, "GET",
                         f"/service/v1/serviceJobs/{path_segment(service_job_id)}/appointmentSlots", params=params)
        raise_body_errors(plans.GET_JOB_APPOINTMENT_SLOTS, body)
        return parse_slot_report(body.get("payload") or {})

    def add_appointment(
        self, service_job_id: str, start: datetime, duration_minutes: int | None = None
    ) -> AppointmentResult:
        """Raises SpApiSlotUnavailable when the slot has no capacity left."""
        body = self._booking(plans.ADD_APPOINTMENT,
                             f"/service/v1/serviceJobs/{path_segment(service_job_id)}/appointments",
                             {"appointmentTime": _appointment_time(start, duration_minutes)})
        return self._appointment_result(plans.ADD_APPOINTMENT, body)

    def reschedule_appointment(
        self, service_job_id: str, appointment_id: str, start: datetime, reason_code: str,
        duration_minutes: int | None = None,
    ) -> AppointmentResult:
        """Returns the NEW appointment's ID; a RESOURCES_UNASSIGNED warning lists the
        technicians SP-API dropped from the old one. Raises SpApiSlotUnavailable
        when the slot has no capacity left."""
        if not reason_code:
            raise ValueError("a reschedule reason code is required")
        body = self._booking(
            plans.RESCHEDULE_APPOINTMENT,
            f"/service/v1/serviceJobs/{path_segment(service_job_id)}/appointments/{path_segment(appointment_id)}",
            {"appointmentTime": _appointment_time(start, duration_minutes), "rescheduleReasonCode": reason_code})
        return self._appointment_result(plans.RESCHEDULE_APPOINTMENT, body)

    def _booking(self, operation: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.call(operation, "POST", path, json=body)
        except SpApiUnprocessable as exc:
            if exc.message and exc.message.endswith(SLOT_TAKEN):
                raise SpApiSlotUnavailable(operation, exc.status, exc.errors, exc.request_id) from None
            raise

    def assign_appointment_resources(
        self, service_job_id: str, appointment_id: str, resource_ids: Sequence[str]
    ) -> tuple[SpApiWarning, ...]:
        """Replaces the appointment's technicians; returns warnings such as RESOURCES_OVERBOOKED."""
        if not resource_ids:
            raise ValueError("at least one resource")
        body = self.call(
            plans.ASSIGN_RESOURCES, "PUT",
            f"/service/v1/serviceJobs/{path_segment(service_job_id)}/appointments/"
            f"{path_segment(appointment_id)}/resources",
            json={"resources": [{"resourceId": r} for r in resource_ids]})
        payload = body.get("payload") or {}
        raise_body_errors(plans.ASSIGN_RESOURCES, body)
        return parse_warnings(payload.get("warnings") if isinstance(payload, dict) else None)

    @staticmethod
    def _appointment_result(operation: str, body: dict[str, Any]) -> AppointmentResult:
        raise_body_errors(operation, body)
        appointment_id = body.get("appointmentId")
        if not isinstance(appointment_id, str) or not appointment_id:
            raise SpApiError(operation, 200, message="no appointmentId in the answer")
        return AppointmentResult(appointment_id, parse_warnings(body.get("warnings")))
