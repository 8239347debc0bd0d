"""The sandbox's one capacity model, per store (SP-API's "resource").

A store's schedule (availability records, each repeated by its recurrence)
gives its SCHEDULED capacity; where records of one schedule overlap, the later
one wins. Reservations (BREAK, VACATION, ...) take RESERVED capacity away; the
ACTIVE and COMPLETED appointments of the store's jobs are its ENCUMBERED
capacity. AVAILABLE = scheduled - reserved - encumbered, never below zero.
Nothing is stored but schedules and reservations: every answer (capacity,
appointment slots, whether an appointment or reservation fits) is computed
from them and the jobs at the time of asking, so taking the last slot is seen
by the next call.

An appointment slot is a window of the service's duration; slots tile each
schedule occurrence from its start, and a slot's capacity is the least
available capacity inside it.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from techapi.clock import parse_iso

if TYPE_CHECKING:
    from techapi.spapi.sandbox.state import SandboxState

MAX_RECURRENCE_DAYS = 800  # bounds every expansion of a recurrence
ENCUMBERING = ("ACTIVE", "COMPLETED")


@dataclass(frozen=True)
class Record:
    """An AvailabilityRecord: [start, end) repeated on matching days until `until`."""

    start: datetime  # aware; recurrence repeats its wall-clock time in its zone
    end: datetime
    capacity: int = 1
    until: datetime | None = None
    days_of_week: frozenset[int] = frozenset()  # 0 = Monday
    days_of_month: frozenset[int] = frozenset()

    def _on(self, day: date) -> bool:
        if not self.days_of_week and not self.days_of_month:
            return True
        return day.weekday() in self.days_of_week or day.day in self.days_of_month

    def occurrences(self, lo: datetime, hi: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Every occurrence overlapping [lo, hi)."""
        span = self.end - self.start
        if self.until is None:
            if self.start < hi and self.end > lo:
                yield self.start, self.end
            return
        tz = self.start.tzinfo
        day = max(self.start.date(), (lo - span).astimezone(tz).date())
        last = min(self.until.astimezone(tz).date(), hi.astimezone(tz).date(),
                   self.start.date() + timedelta(days=MAX_RECURRENCE_DAYS))
        while day <= last:
            if self._on(day):
                s = datetime.combine(day, self.start.time(), tzinfo=tz)
                if s >= self.until:
                    return
                e = s + span
                if s < hi and e > lo:
                    yield s, e
            day += timedelta(days=1)

    def last_end(self) -> datetime:
        return (self.until or self.start) + (self.end - self.start)

    def overlaps(self, other: Record) -> bool:
        lo, hi = max(self.start, other.start), min(self.last_end(), other.last_end())
        if lo >= hi:
            return False
        mine, theirs = list(self.occurrences(lo, hi)), list(other.occurrences(lo, hi))
        i = j = 0
        while i < len(mine) and j < len(theirs):
            if mine[i][0] < theirs[j][1] and theirs[j][0] < mine[i][1]:
                return True
            if mine[i][1] <= theirs[j][1]:
                i += 1
            else:
                j += 1
        return False


@dataclass
class Reservation:
    reservation_id: str
    kind: str
    record: Record
    raw: dict[str, Any]  # the availability as sent


@dataclass
class StoreCalendar:
    store_id: str
    marketplace_id: str | None = None
    schedule: list[Record] = field(default_factory=list)
    schedule_raw: list[dict[str, Any]] = field(default_factory=list)
    reservations: dict[str, Reservation] = field(default_factory=dict)
    technicians: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Segment:
    start: datetime
    end: datetime
    scheduled: int
    reserved: int
    encumbered: int

    @property
    def available(self) -> int:
        return max(0, self.scheduled - self.reserved - self.encumbered)

    def of(self, capacity_type: str) -> int:
        return {"SCHEDULED_CAPACITY": self.scheduled, "AVAILABLE_CAPACITY": self.available,
                "ENCUMBERED_CAPACITY": self.encumbered, "RESERVED_CAPACITY": self.reserved}[capacity_type]


def calendar(state: SandboxState, store_id: str, create: bool = False) -> StoreCalendar | None:
    """The store's calendar; the caller holds state.lock."""
    found = state.calendars.get(store_id)
    if found is None and create:
        found = state.calendars[store_id] = StoreCalendar(store_id)
    return found


def appointment_intervals(state: SandboxState, store_id: str, exclude_job: str | None = None
                          ) -> list[tuple[datetime, datetime]]:
    out = []
    for job in state.jobs.values():
        if job.payload.get("storeId") != store_id or job.job_id == exclude_job:
            continue
        for appt in job.payload.get("appointments") or []:
            when = appt.get("appointmentTime") or {}
            if appt.get("appointmentStatus", "ACTIVE") in ENCUMBERING and when.get("startTime"):
                start = parse_iso(when["startTime"])
                out.append((start, start + timedelta(minutes=int(when.get("durationInMinutes") or 0))))
    return out


def profile(state: SandboxState, store_id: str, lo: datetime, hi: datetime, *, exclude_job: str | None = None,
            exclude_reservation: str | None = None) -> list[Segment]:
    """[lo, hi) cut where any capacity changes, each piece with its capacities."""
    cal = calendar(state, store_id)
    scheduled: list[tuple[datetime, datetime, int, int]] = []
    reserved: list[tuple[datetime, datetime, int]] = []
    if cal is not None:
        for order, rec in enumerate(cal.schedule):
            scheduled += [(s, e, rec.capacity, order) for s, e in rec.occurrences(lo, hi)]
        for res in cal.reservations.values():
            if res.reservation_id != exclude_reservation:
                reserved += [(s, e, res.record.capacity) for s, e in res.record.occurrences(lo, hi)]
    booked = [(s, e) for s, e in appointment_intervals(state, store_id, exclude_job) if s < hi and e > lo]
    cuts = {lo, hi}
    for s, e, *_ in scheduled + reserved + booked:
        cuts.update(t for t in (s, e) if lo < t < hi)
    points = sorted(cuts)
    out = []
    for a, b in zip(points, points[1:], strict=False):
        covering = [(order, cap) for s, e, cap, order in scheduled if s <= a and e >= b]
        out.append(Segment(
            a, b,
            scheduled=max(covering)[1] if covering else 0,
            reserved=sum(cap for s, e, cap in reserved if s <= a and e >= b),
            encumbered=sum(1 for s, e in booked if s <= a and e >= b),
        ))
    return out


def least(segments: list[Segment], start: datetime, end: datetime, what: str = "AVAILABLE_CAPACITY") -> int:
    """The least capacity of a type over [start, end); 0 where nothing is scheduled."""
    starts = [s.start for s in segments]
    i = max(0, bisect.bisect_right(starts, start) - 1)
    low: int | None = None
    while i < len(segments) and segments[i].start < end:
        seg = segments[i]
        if seg.end > start:
            low = seg.of(what) if low is None else min(low, seg.of(what))
        i += 1
    return low or 0


def most(segments: list[Segment], start: datetime, end: datetime, what: str) -> int:
    values = [seg.of(what) for seg in segments if seg.start < end and seg.end > start]
    return max(values, default=0)


def appointment_slots(state: SandboxState, store_id: str, minutes: int, lo: datetime, hi: datetime,
                      now: datetime, exclude_job: str | None = None) -> list[tuple[datetime, datetime, int]]:
    """Slots of `minutes` inside [lo, hi) that start after `now`, with their capacity."""
    cal = calendar(state, store_id)
    if cal is None or minutes < 1:
        return []
    segments = profile(state, store_id, lo, hi, exclude_job=exclude_job)
    step = timedelta(minutes=minutes)
    found: dict[datetime, tuple[datetime, datetime, int]] = {}
    for rec in cal.schedule:
        for s, e in rec.occurrences(lo, hi):
            t = s
            while t + step <= e:
                if t >= lo and t + step <= hi and t > now and t not in found:
                    found[t] = (t, t + step, least(segments, t, t + step))
                t += step
    return [found[t] for t in sorted(found)]


def fits(state: SandboxState, store_id: str, record: Record, *, exclude_reservation: str | None = None) -> bool:
    """Whether every occurrence of `record` has `record.capacity` available."""
    lo, hi = record.start, record.last_end()
    segments = profile(state, store_id, lo, hi, exclude_reservation=exclude_reservation)
    return all(least(segments, s, e) >= record.capacity for s, e in record.occurrences(lo, hi))


def schedule_demo_stores(state: SandboxState, today: date, tz_name: str) -> None:
    """08:00-18:00 on weekdays from yesterday for a year, capacity = the store's technicians."""
    tz = ZoneInfo(tz_name)
    with state.lock:
        for store_id in state.stores:
            jobs = [j.payload for j in state.jobs.values() if j.payload.get("storeId") == store_id]
            techs = {t["technicianId"] for p in jobs for a in p.get("appointments") or []
                     for t in a.get("assignedTechnicians") or []}
            cal = calendar(state, store_id, create=True)
            assert cal is not None
            cal.marketplace_id = next((p.get("marketplaceId") for p in jobs), None)
            cal.technicians = techs
            first = today - timedelta(days=1)
            cal.schedule = [Record(
                start=datetime.combine(first, time(8), tzinfo=tz), end=datetime.combine(first, time(18), tzinfo=tz),
                capacity=max(1, len(techs)), until=datetime.combine(today + timedelta(days=365), time(18), tzinfo=tz),
                days_of_week=frozenset(range(5)))]
            cal.schedule_raw = []
