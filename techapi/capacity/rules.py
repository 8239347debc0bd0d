"""Pure checks on time off: its times, and the appointments it would overlap."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from techapi.clock import as_utc, iso_z
from techapi.errors import ConflictError, ValidationError


@dataclass(frozen=True)
class Overlap:
    service_job_id: str
    start: datetime
    end: datetime


def check_times(start: datetime, end: datetime, now: datetime) -> None:
    """SP-API takes reservations in the future only, and a range that ends after it starts."""
    if as_utc(end) <= as_utc(start):
        raise ValidationError("end must be after start", errors={"json": {"end": ["Must be after start."]}})
    if as_utc(start) <= as_utc(now):
        raise ValidationError("start must be in the future", errors={"json": {"start": ["Must be in the future."]}})


def refuse_overlaps(overlaps: list[Overlap]) -> None:
    """409 naming each of the technician's active appointments the time off would overlap."""
    if not overlaps:
        return
    named = ", ".join(f"{o.service_job_id} ({iso_z(o.start)} to {iso_z(o.end)})" for o in overlaps)
    raise ConflictError(
        f"The time off overlaps the technician's appointments: {named}; a supervisor may send \"force\": true",
        errors={"appointments": [{"serviceJobId": o.service_job_id, "start": iso_z(o.start), "end": iso_z(o.end)}
                                 for o in overlaps]},
    )
