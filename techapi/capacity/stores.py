"""A store's schedule and capacity, on SP-API (techapi keeps no copy of either)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from techapi.auth.models import User
from techapi.capacity.access import check_store, refusal
from techapi.errors import ValidationError
from techapi.spapi.client import SpApiClient
from techapi.spapi.errors import SpApiError
from techapi.spapi.plans import CAPACITY_TYPES
from techapi.spapi.scheduling_types import (
    Availability,
    CapacityQuery,
    FixedCapacity,
    RangeCapacity,
    Recurrence,
    ScheduleResult,
)

log = logging.getLogger(__name__)

MAX_CAPACITY_DAYS = 90
# A phone or a dispatch board needs a few weeks of slots, not 90 days of 5-minute ones
# (26,000 slots: seconds of SP-API pages and megabytes of answer).
MAX_FIXED_SLOTS = 3000


@dataclass(frozen=True)
class StoreCapacity:
    """Either answer, as the API shows it: runs per type (range) or fixed slots."""

    store_id: str
    start: datetime
    end: datetime
    slot_minutes: int | None
    capacities: list[dict[str, Any]]
    slots: list[dict[str, Any]] | None


def availability(raw: dict[str, Any]) -> Availability:
    """One schedule record from the request (already schema-checked), or 422 with why not."""
    recurrence = raw.get("recurrence")
    try:
        rec = None
        if recurrence is not None:
            if recurrence["end"] <= raw["start"]:
                raise ValueError("recurrence end must be after start")
            rec = Recurrence(recurrence["end"], tuple(recurrence.get("daysOfWeek") or ()),
                             tuple(recurrence.get("daysOfMonth") or ()))
        return Availability(raw["start"], raw["end"], raw.get("capacity"), rec)
    except ValueError as exc:
        raise ValidationError(f"Invalid schedule record: {exc}", errors={"json": {"schedules": [str(exc)]}}) \
            from None


def replace_schedule(spapi: SpApiClient, user: User, store_id: str, records: list[dict[str, Any]]) -> list[str]:
    """updateSchedule: the store's whole schedule becomes `records`; SP-API's warnings are returned."""
    check_store(user, store_id)
    if not records:
        # "There is no way to clear the schedule of a resource; providing an empty schedule is invalid."
        raise ValidationError("An empty schedule is invalid: SP-API has no way to clear a schedule")
    schedules = [availability(r) for r in records]
    try:
        result: ScheduleResult = spapi.update_schedule(store_id, schedules)
    except SpApiError as exc:
        raise refusal(exc) from None
    log.info("store %s schedule replaced by %s (%d record(s))", store_id, user.username, len(schedules))
    return [f"{w.code}: {w.message}" for _, w in result.warnings]


def capacity(spapi: SpApiClient, user: User, store_id: str, start: datetime, end: datetime,
             types: list[str] | None, slot_minutes: int | None) -> StoreCapacity:
    """getRangeSlotCapacity, or getFixedSlotCapacity with `slot_minutes`; every page."""
    check_store(user, store_id)
    if end <= start:
        raise ValidationError("'to' must be after 'from'")
    if end - start > timedelta(days=MAX_CAPACITY_DAYS):
        raise ValidationError(f"At most {MAX_CAPACITY_DAYS} days at a time")
    if slot_minutes is not None and (end - start) / timedelta(minutes=slot_minutes) > MAX_FIXED_SLOTS:
        raise ValidationError(f"At most {MAX_FIXED_SLOTS} slots at a time: a shorter range or longer slots")
    wanted = list(dict.fromkeys(types or CAPACITY_TYPES))
    query = CapacityQuery(start, end, tuple(wanted))
    try:
        if slot_minutes is not None:
            fixed: FixedCapacity = spapi.get_fixed_capacity(store_id, query, slot_minutes)
            slots = [{"start": s.start, "end": min(end, s.start + timedelta(minutes=slot_minutes)),
                      "scheduled": s.scheduled, "available": s.available, "encumbered": s.encumbered,
                      "reserved": s.reserved}
                     for s in fixed.slots]
            return StoreCapacity(store_id, start, end, slot_minutes, [], slots)
        ranged: RangeCapacity = spapi.get_range_capacity(store_id, query)
    except SpApiError as exc:
        raise refusal(exc) from None
    capacities = [{"type": kind, "slots": [{"start": r.start, "end": r.end, "capacity": r.capacity}
                                           for r in ranged.capacities.get(kind, ())]} for kind in wanted]
    return StoreCapacity(store_id, start, end, None, capacities, None)
