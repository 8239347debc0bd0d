"""Our own types for what SP-API returns; callers never see raw responses."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from techapi.clock import parse_iso

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class JobStatus(enum.StrEnum):
    """ServiceJob.serviceJobStatus, as the model lists it."""

    NOT_SERVICED = "NOT_SERVICED"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"
    PENDING_SCHEDULE = "PENDING_SCHEDULE"
    NOT_FULFILLABLE = "NOT_FULFILLABLE"
    HOLD = "HOLD"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"


class AppointmentStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"


@dataclass(frozen=True)
class Technician:
    technician_id: str
    name: str | None = None


@dataclass(frozen=True)
class Appointment:
    appointment_id: str | None
    status: str | None
    start: datetime | None
    duration_minutes: int | None
    technicians: tuple[Technician, ...] = ()

    @property
    def end(self) -> datetime | None:
        if self.start is None or self.duration_minutes is None:
            return None
        return self.start + timedelta(minutes=self.duration_minutes)


@dataclass(frozen=True)
class ServiceJob:
    service_job_id: str
    status: str | None
    service_order_id: str | None
    marketplace_id: str | None
    store_id: str | None
    create_time: datetime | None
    appointments: tuple[Appointment, ...]
    buyer: dict[str, Any]
    address: dict[str, Any] | None
    scope: dict[str, Any]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def current_appointment(self) -> Appointment | None:
        """The ACTIVE appointment, else the COMPLETED one. A cancelled appointment
        is current only when the whole job was cancelled; otherwise it was
        rescheduled away and its technician no longer has the job."""
        wanted_states = [AppointmentStatus.ACTIVE, AppointmentStatus.COMPLETED]
        if self.status == JobStatus.CANCELLED:
            wanted_states.append(AppointmentStatus.CANCELLED)
        for wanted in wanted_states:
            candidates = [a for a in self.appointments if a.status == wanted]
            if candidates:
                return max(candidates, key=lambda a: a.start or _EPOCH)
        # Listings may omit appointmentStatus (see the guide's examples): an
        # appointment without one is taken as current unless the job is cancelled.
        unlabelled = [a for a in self.appointments if a.status is None]
        if unlabelled and self.status != JobStatus.CANCELLED:
            return unlabelled[-1]
        return None


@dataclass(frozen=True)
class JobPage:
    jobs: list[ServiceJob]
    next_page_token: str | None
    total_result_size: int | None


@dataclass(frozen=True)
class UploadDestination:
    upload_destination_id: str
    url: str
    key: bytes
    iv: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class FulfillmentDocument:
    upload_destination_id: str
    content_sha256: str


@dataclass(frozen=True)
class FulfillmentData:
    start: datetime | None = None
    end: datetime | None = None
    resource_ids: tuple[str, ...] = ()
    documents: tuple[FulfillmentDocument, ...] = ()


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_iso(value)
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    # The guide's listing examples send durationInMinutes as a string.
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_appointment(raw: dict[str, Any]) -> Appointment:
    when = raw.get("appointmentTime") or {}
    techs = tuple(
        Technician(technician_id=str(t["technicianId"]), name=t.get("name"))
        for t in raw.get("assignedTechnicians") or []
        if isinstance(t, dict) and t.get("technicianId")
    )
    return Appointment(
        appointment_id=raw.get("appointmentId"),
        status=raw.get("appointmentStatus"),
        start=_time(when.get("startTime")),
        duration_minutes=_int(when.get("durationInMinutes")),
        technicians=techs,
    )


def parse_service_job(raw: dict[str, Any]) -> ServiceJob:
    if not isinstance(raw, dict) or not raw.get("serviceJobId"):
        raise ValueError("service job without serviceJobId")
    location = raw.get("serviceLocation") or {}
    return ServiceJob(
        service_job_id=str(raw["serviceJobId"]),
        status=raw.get("serviceJobStatus"),
        service_order_id=raw.get("serviceOrderId"),
        marketplace_id=raw.get("marketplaceId"),
        store_id=raw.get("storeId"),
        create_time=_time(raw.get("createTime")),
        appointments=tuple(
            parse_appointment(a) for a in raw.get("appointments") or [] if isinstance(a, dict)
        ),
        buyer=dict(raw.get("buyer") or {}),
        address=dict(location["address"]) if isinstance(location.get("address"), dict) else None,
        scope=dict(raw.get("scopeOfWork") or {}),
        raw=raw,
    )
