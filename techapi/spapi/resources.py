"""SP-API resource (store) capacity operations: schedules, reservations, capacity.

Mixed into SpApiClient (client.py). Capacity answers are paged: the methods
follow nextPageToken to the end, a bounded number of pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from techapi.spapi import plans
from techapi.spapi.errors import SpApiError, raise_body_errors
from techapi.spapi.scheduling_types import (
    Availability,
    CapacityQuery,
    FixedCapacity,
    FixedSlot,
    RangeCapacity,
    RangeSlot,
    ReservationResult,
    ScheduleResult,
    parse_warnings,
)
from techapi.spapi.transport import SpApiTransport, path_segment
from techapi.spapi.types import _time

MAX_CAPACITY_PAGES = 100


def _reservation_body(resource_id: str, kind: str, availability: Availability) -> dict[str, Any]:
    if kind not in plans.RESERVATION_TYPES:
        raise ValueError(f"reservation type must be one of {plans.RESERVATION_TYPES}")
    return {"resourceId": resource_id, "reservation": {"type": kind, "availability": availability.to_json()}}


class ResourceOperations(SpApiTransport):
    def update_schedule(self, resource_id: str, schedules: Sequence[Availability]) -> ScheduleResult:
        """Overwrites the resource's whole schedule (there is no way to clear it)."""
        if not schedules:
            raise ValueError("an empty schedule is invalid")
        body = self.call(plans.UPDATE_SCHEDULE, "PUT",
                         f"/service/v1/serviceResources/{path_segment(resource_id)}/schedules",
                         params={"marketplaceIds": self.marketplace_id},
                         json={"schedules": [s.to_json() for s in schedules]})
        raise_body_errors(plans.UPDATE_SCHEDULE, body)
        records = [r for r in body.get("payload") or [] if isinstance(r, dict)]
        for record in records:
            raise_body_errors(plans.UPDATE_SCHEDULE, record)
        return ScheduleResult(tuple((r.get("availability") or {}, w) for r in records
                                    for w in parse_warnings(r.get("warnings"))))

    def create_reservation(self, resource_id: str, kind: str, availability: Availability) -> ReservationResult:
        body = self.call(plans.CREATE_RESERVATION, "POST", "/service/v1/reservation",
                         params={"marketplaceIds": self.marketplace_id},
                         json=_reservation_body(resource_id, kind, availability))
        return self._reservation_result(plans.CREATE_RESERVATION, body)

    def update_reservation(
        self, reservation_id: str, resource_id: str, kind: str, availability: Availability
    ) -> ReservationResult:
        """Moves a reservation; SP-API answers with a NEW reservationId (the old one is gone)."""
        body = self.call(plans.UPDATE_RESERVATION, "PUT", f"/service/v1/reservation/{path_segment(reservation_id)}",
                         params={"marketplaceIds": self.marketplace_id},
                         json=_reservation_body(resource_id, kind, availability))
        return self._reservation_result(plans.UPDATE_RESERVATION, body)

    def cancel_reservation(self, reservation_id: str) -> None:
        body = self.call(plans.CANCEL_RESERVATION, "DELETE", f"/service/v1/reservation/{path_segment(reservation_id)}",
                         params={"marketplaceIds": self.marketplace_id})
        raise_body_errors(plans.CANCEL_RESERVATION, body)

    def get_range_capacity(self, resource_id: str, query: CapacityQuery) -> RangeCapacity:
        """getRangeSlotCapacity, every page: runs of constant capacity per capacity type."""
        runs: dict[str, list[RangeSlot]] = {t: [] for t in query.capacity_types}
        for page in self._pages(plans.GET_RANGE_CAPACITY, "range", resource_id, query.body()):
            for entry in page.get("capacities") or []:
                kind = entry.get("capacityType")
                for s in entry.get("slots") or []:
                    start, end = _time(s.get("startDateTime")), _time(s.get("endDateTime"))
                    if kind and start and end:
                        runs.setdefault(kind, []).append(RangeSlot(start, end, int(s.get("capacity") or 0)))
        return RangeCapacity(resource_id, {k: tuple(_join(v)) for k, v in runs.items()})

    def get_fixed_capacity(self, resource_id: str, query: CapacityQuery, slot_minutes: int = 30) -> FixedCapacity:
        """getFixedSlotCapacity, every page: one entry per `slot_minutes` slot."""
        if slot_minutes % 5 or not plans.MIN_SLOT_DURATION <= slot_minutes <= plans.MAX_SLOT_DURATION:
            raise ValueError("slot_minutes must be a multiple of 5 in 5..360")
        slots: list[FixedSlot] = []
        for page in self._pages(plans.GET_FIXED_CAPACITY, "fixed", resource_id,
                                {**query.body(), "slotDuration": slot_minutes}):
            for s in page.get("capacities") or []:
                start = _time(s.get("startDateTime"))
                if start:
                    slots.append(FixedSlot(start, s.get("scheduledCapacity"), s.get("availableCapacity"),
                                           s.get("encumberedCapacity"), s.get("reservedCapacity")))
        return FixedCapacity(resource_id, slot_minutes, tuple(slots))

    def _pages(self, operation: str, kind: str, resource_id: str, body: dict[str, Any]):
        token: str | None = None
        for _ in range(MAX_CAPACITY_PAGES):
            params = {"marketplaceIds": self.marketplace_id}
            if token:
                params["nextPageToken"] = token
            page = self.call(operation, "POST",
                             f"/service/v1/serviceResources/{path_segment(resource_id)}/capacity/{kind}",
                             params=params, json=body)
            raise_body_errors(operation, page)
            yield page
            following = page.get("nextPageToken") or None
            if not following or following == token:
                return
            token = following
        raise SpApiError(operation, None, message=f"more than {MAX_CAPACITY_PAGES} pages")

    @staticmethod
    def _reservation_result(operation: str, body: dict[str, Any]) -> ReservationResult:
        payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
        raise_body_errors(operation, body, payload)
        reservation_id = (payload.get("reservation") or {}).get("reservationId")
        if not isinstance(reservation_id, str) or not reservation_id:
            raise SpApiError(operation, 200, message="no reservationId in the answer")
        return ReservationResult(reservation_id, parse_warnings(payload.get("warnings")))


def _join(slots: list[RangeSlot]) -> list[RangeSlot]:
    """Pages cut runs at their boundary: join touching runs of equal capacity."""
    out: list[RangeSlot] = []
    for s in sorted(slots, key=lambda s: s.start):
        if out and out[-1].end == s.start and out[-1].capacity == s.capacity:
            out[-1] = RangeSlot(out[-1].start, s.end, s.capacity)
        else:
            out.append(s)
    return out

