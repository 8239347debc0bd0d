"""Our own types for the scheduling operations (slots, appointments, schedules,
reservations, capacity); callers never see raw responses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from techapi.clock import iso_z
from techapi.spapi import plans
from techapi.spapi.types import _time


@dataclass(frozen=True)
class SpApiWarning:
    """SP-API's warnings on a success, e.g. RESOURCES_UNASSIGNED after a reschedule."""

    code: str
    message: str
    details: str = ""

    @property
    def resource_ids(self) -> tuple[str, ...]:
        """The IDs a RESOURCES_UNASSIGNED message lists ("Unassigned resources : A,B")."""
        _, sep, tail = self.message.partition(":")
        return tuple(p.strip() for p in tail.split(",") if p.strip()) if sep else ()


def parse_warnings(raw: Any) -> tuple[SpApiWarning, ...]:
    return tuple(
        SpApiWarning(str(w.get("code", "")), str(w.get("message", "")), str(w.get("details", "") or ""))
        for w in raw or [] if isinstance(w, dict)
    )


@dataclass(frozen=True)
class AppointmentSlot:
    start: datetime
    end: datetime
    capacity: int


@dataclass(frozen=True)
class SlotReport:
    start: datetime | None
    end: datetime | None
    scheduling_type: str | None
    slots: tuple[AppointmentSlot, ...]

    def available(self) -> list[AppointmentSlot]:
        return [s for s in self.slots if s.capacity > 0]


def parse_slot_report(raw: dict[str, Any]) -> SlotReport:
    slots = []
    for s in raw.get("appointmentSlots") or []:
        start, end = _time(s.get("startTime")), _time(s.get("endTime"))
        if start and end:
            slots.append(AppointmentSlot(start, end, int(s.get("capacity") or 0)))
    return SlotReport(_time(raw.get("startTime")), _time(raw.get("endTime")), raw.get("schedulingType"),
                      tuple(slots))


@dataclass(frozen=True)
class AppointmentResult:
    """addAppointment / rescheduleAppointment: the NEW appointment's ID and the warnings."""

    appointment_id: str
    warnings: tuple[SpApiWarning, ...] = ()

    @property
    def unassigned_resources(self) -> tuple[str, ...]:
        return tuple(r for w in self.warnings if w.code == "RESOURCES_UNASSIGNED" for r in w.resource_ids)


@dataclass(frozen=True)
class Recurrence:
    end: datetime
    days_of_week: tuple[str, ...] = ()  # MONDAY..SUNDAY
    days_of_month: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        bad = set(self.days_of_week) - set(plans.DAYS_OF_WEEK)
        if bad or any(not 1 <= d <= 31 for d in self.days_of_month):
            raise ValueError("days_of_week must be MONDAY..SUNDAY and days_of_month 1..31")


@dataclass(frozen=True)
class Availability:
    """The model's AvailabilityRecord: a time range, repeated by `recurrence`."""

    start: datetime
    end: datetime
    capacity: int | None = None
    recurrence: Recurrence | None = None

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if self.capacity is not None and self.capacity < 1:
            raise ValueError("capacity must be at least 1")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"startTime": iso_z(self.start), "endTime": iso_z(self.end)}
        if self.capacity is not None:
            out["capacity"] = self.capacity
        if self.recurrence is not None:
            rec: dict[str, Any] = {"endTime": iso_z(self.recurrence.end)}
            if self.recurrence.days_of_week:
                rec["daysOfWeek"] = list(self.recurrence.days_of_week)
            if self.recurrence.days_of_month:
                rec["daysOfMonth"] = list(self.recurrence.days_of_month)
            out["recurrence"] = rec
        return out


@dataclass(frozen=True)
class ScheduleResult:
    """updateSchedule's warnings (e.g. ScheduleOverride), per record sent."""

    warnings: tuple[tuple[dict[str, Any], SpApiWarning], ...] = ()


@dataclass(frozen=True)
class ReservationResult:
    reservation_id: str
    warnings: tuple[SpApiWarning, ...] = ()


@dataclass(frozen=True)
class CapacityQuery:
    start: datetime
    end: datetime
    capacity_types: Sequence[str] = ("SCHEDULED_CAPACITY",)

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        bad = set(self.capacity_types) - set(plans.CAPACITY_TYPES)
        if bad:
            raise ValueError(f"unknown capacity type(s): {sorted(bad)}")

    def body(self) -> dict[str, Any]:
        return {"capacityTypes": list(self.capacity_types), "startDateTime": iso_z(self.start),
                "endDateTime": iso_z(self.end)}


@dataclass(frozen=True)
class RangeSlot:
    start: datetime
    end: datetime
    capacity: int


@dataclass(frozen=True)
class RangeCapacity:
    """getRangeSlotCapacity, every page joined: runs of constant capacity per type."""

    resource_id: str
    capacities: dict[str, tuple[RangeSlot, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class FixedSlot:
    start: datetime
    scheduled: int | None = None
    available: int | None = None
    encumbered: int | None = None
    reserved: int | None = None


@dataclass(frozen=True)
class FixedCapacity:
    """getFixedSlotCapacity, every page joined."""

    resource_id: str
    slot_minutes: int
    slots: tuple[FixedSlot, ...] = ()
