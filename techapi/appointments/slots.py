"""Appointment slots with capacity, by job or by store and service, in the
caller's time zone and in UTC; answers cached per job or store (cache.py)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from techapi.appointments.cache import TtlCache
from techapi.appointments.upstream import translated
from techapi.auth.models import Role, User
from techapi.context import Deps
from techapi.errors import ForbiddenError, ValidationError
from techapi.jobs import services as jobs
from techapi.spapi import plans
from techapi.spapi.errors import SpApiError
from techapi.spapi.scheduling_types import SlotReport

DEFAULT_SPAN = timedelta(days=7)  # SP-API's own default window
SlotCache = TtlCache[SlotReport]


@dataclass(frozen=True)
class Slot:
    start: datetime  # UTC
    end: datetime
    start_local: datetime  # the caller's time zone
    end_local: datetime
    capacity: int


@dataclass(frozen=True)
class Slots:
    timezone: str
    start: datetime | None
    end: datetime | None
    fetched_at: datetime
    slots: list[Slot]


def caller_zone(user: User, deps: Deps) -> str:
    return user.timezone or deps.settings.timezone


def window(now: datetime, start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """The range asked for: from now and 7 days long unless given; at most 90 days."""
    if start is None:
        start = now if end is None else max(now, end - DEFAULT_SPAN)
    if end is None:
        end = start + DEFAULT_SPAN
    if end <= start:
        raise ValidationError("`to` must be after `from`", errors={"query": {"to": ["after `from`"]}})
    if end - start > timedelta(days=plans.MAX_SLOT_RANGE_DAYS):
        raise ValidationError(f"At most {plans.MAX_SLOT_RANGE_DAYS} days of slots at a time",
                              errors={"query": {"to": [f"at most {plans.MAX_SLOT_RANGE_DAYS} days after `from`"]}})
    return start, end


def render(report: SlotReport, fetched_at: datetime, tz_name: str, now: datetime) -> Slots:
    """Slots with capacity still ahead of `now` (a cached answer ages), in UTC and locally."""
    tz = ZoneInfo(tz_name)
    return Slots(tz_name, report.start, report.end, fetched_at,
                 [Slot(s.start, s.end, s.start.astimezone(tz), s.end.astimezone(tz), s.capacity)
                  for s in report.available() if s.start > now])


def _cached(deps: Deps, cache: SlotCache, key: Hashable, fetch: Callable[[], SlotReport]
            ) -> tuple[datetime, SlotReport]:
    now = deps.clock.now()
    hit = cache.get(key, now)
    if hit is not None:
        return hit
    try:
        report = fetch()
    except SpApiError as exc:
        raise translated(exc) from None
    except ValueError as exc:  # what the client itself refuses to send (a storeId over 100 characters)
        raise ValidationError(str(exc)) from None
    cache.put(key, report, now)
    return now, report


def job_slots(deps: Deps, session: Session, cache: SlotCache, user: User, job_id: str,
              start: datetime | None, end: datetime | None) -> Slots:
    """Slots for the job's service in its store, for anyone who may see the job."""
    job = jobs.job_for(session, user, job_id)
    now = deps.clock.now()
    lo, hi = window(now, start, end)
    key = ("job", job.store_id, job.service_job_id, start, end)
    fetched_at, report = _cached(deps, cache, key,
                                 lambda: deps.spapi.get_job_appointment_slots(job.service_job_id, lo, hi))
    return render(report, fetched_at, caller_zone(user, deps), now)


def fresh_job_slots(deps: Deps, user: User, job_id: str, around: datetime) -> Slots | None:
    """Slots straight from SP-API (never cached) from the day of `around` on, or None
    if SP-API cannot say: what a refused booking shows the caller instead."""
    tz_name = caller_zone(user, deps)
    now = deps.clock.now()
    local = around.astimezone(ZoneInfo(tz_name))
    lo = max(now, local.replace(hour=0, minute=0, second=0, microsecond=0))
    try:
        report = deps.spapi.get_job_appointment_slots(job_id, lo, lo + DEFAULT_SPAN)
    except SpApiError:
        return None
    return render(report, now, tz_name, now)


def store_slots(deps: Deps, cache: SlotCache, user: User, store_id: str, asin: str,
                start: datetime | None, end: datetime | None) -> Slots:
    """Slots for a service (ASIN) in a store, for its supervisors and admins."""
    if not (user.role == Role.ADMIN or (user.role == Role.SUPERVISOR and store_id in user.store_ids)):
        raise ForbiddenError("Only the store's supervisors see its slots")
    now = deps.clock.now()
    lo, hi = window(now, start, end)
    key = ("store", store_id, asin, start, end)
    fetched_at, report = _cached(deps, cache, key,
                                 lambda: deps.spapi.get_appointment_slots(asin, store_id, lo, hi))
    return render(report, fetched_at, caller_zone(user, deps), now)


def forget_store(cache: SlotCache, store_id: str | None) -> None:
    """A booking in the store changed its slots: its cached answers go."""
    cache.forget(lambda key: isinstance(key, tuple) and key[1] == store_id)
