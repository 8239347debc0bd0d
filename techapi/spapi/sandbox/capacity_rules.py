"""Parsing and validation shared by the scheduling handlers: the guide's and the
model's rules for availability records, reservations and time windows."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from werkzeug.datastructures import MultiDict

from techapi.spapi import plans
from techapi.spapi.reasons import MARKETPLACE_COUNTRY
from techapi.spapi.sandbox import rules
from techapi.spapi.sandbox.capacity import Record
from techapi.spapi.sandbox.routing import fail

# The model's own examples send offsets as "-07" as well as "-07:00" and "Z".
LENIENT_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)?$")
# "The minimum slot duration is five minutes for US marketplaces and 30 mins for UK and DE."
MIN_SCHEDULE_MINUTES = {"US": 5, "UK": 30, "DE": 30}
DAY_NUMBER = {name: i for i, name in enumerate(plans.DAYS_OF_WEEK)}


def parse_when(raw: Any) -> datetime | None:
    """An aware datetime in the zone it was given in (recurrences repeat its wall-clock time).
    Years far from now are refused, so no arithmetic on them can overflow."""
    if not isinstance(raw, str) or not LENIENT_TIME.match(raw):
        return None
    try:
        value = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith("Z") else raw)
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return value if 1970 <= value.astimezone(UTC).year <= 2200 else None
    except (ValueError, OverflowError):
        return None


def utc_seconds(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def marketplace(args: MultiDict) -> str:
    ids = [v for raw in args.getlist("marketplaceIds") for v in raw.split(",") if v]
    if len(ids) != 1:
        raise fail(400, rules.missing(["marketplaceIds"]))
    return ids[0]


def min_schedule_minutes(marketplace_id: str) -> int:
    return MIN_SCHEDULE_MINUTES.get(MARKETPLACE_COUNTRY.get(marketplace_id, ""), 5)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def record_errors(raw: Any, min_minutes: int = 1) -> tuple[Record | None, list[str]]:
    """An AvailabilityRecord, or why it is not one."""
    if not isinstance(raw, dict):
        return None, ["Availability record is not a valid object"]
    start, end = parse_when(raw.get("startTime")), parse_when(raw.get("endTime"))
    errors = [f"{k} is not a valid ISO date/time object" for k, v in (("startTime", start), ("endTime", end))
              if v is None]
    if start is None or end is None:
        return None, errors
    if end <= start:
        return None, ["endTime should be after startTime"]
    if (end - start).total_seconds() < min_minutes * 60:
        errors.append(f"Slot duration should be at least {min_minutes} minutes in this marketplace")
    capacity = raw.get("capacity", 1)
    if _int(capacity) is None or capacity < 1:
        errors.append("capacity should be an integer of at least 1")
    until, dow, dom = None, frozenset(), frozenset()
    if raw.get("recurrence") is not None:
        rec = raw["recurrence"]
        until = parse_when(rec.get("endTime")) if isinstance(rec, dict) else None
        if until is None or not isinstance(rec, dict):
            errors.append("recurrence endTime is not a valid ISO date/time object")
        else:
            if until <= start:
                errors.append("recurrence endTime should be after startTime")
            days, months = rec.get("daysOfWeek") or [], rec.get("daysOfMonth") or []
            if not isinstance(days, list) or any(not isinstance(d, str) or d not in DAY_NUMBER for d in days):
                errors.append("recurrence daysOfWeek is not valid")
            elif not isinstance(months, list) or any(_int(d) is None or not 1 <= d <= 31 for d in months):
                errors.append("recurrence daysOfMonth is not valid")
            else:
                dow, dom = frozenset(DAY_NUMBER[d] for d in days), frozenset(months)
    if errors:
        return None, errors
    return Record(start, end, capacity, until, dow, dom), []


def reservation_record(reservation: Any, *, type_required: bool = True) -> tuple[str | None, Record | None]:
    """(type, record) of a Reservation, or (None, None) when it is missing or invalid."""
    if not isinstance(reservation, dict) or not reservation:
        return None, None
    kind = reservation.get("type")
    if kind is None and not type_required:
        kind = ""
    if kind != "" and kind not in plans.RESERVATION_TYPES:
        return None, None
    record, errors = record_errors(reservation.get("availability"))
    return (kind, record) if record is not None and not errors else (None, None)
