"""Who may read a report over which stores, and over how many days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from techapi.auth.models import Role, User
from techapi.clock import day_bounds
from techapi.errors import ForbiddenError, ValidationError

# A report reads every row of its range once; 92 days (a quarter) bounds that work.
MAX_DAYS = 92


@dataclass(frozen=True)
class Scope:
    first: date
    last: date  # inclusive
    timezone: str
    store_ids: tuple[str, ...] | None  # None: every store (admins)
    lo: datetime  # first day's start, UTC
    hi: datetime  # the day after the last day's start, UTC (exclusive)


def report_scope(user: User, first: date, last: date, store_id: str | None, tz_name: str) -> Scope:
    """The stores and UTC bounds of a report: supervisors their own stores (403 for
    another), admins any; technicians none (403). 422 for a range backwards or too long."""
    if user.role == Role.SUPERVISOR:
        if store_id is not None and store_id not in user.store_ids:
            raise ForbiddenError("You do not oversee this store")
        stores: tuple[str, ...] | None = (store_id,) if store_id else tuple(user.store_ids)
    elif user.role == Role.ADMIN:
        stores = (store_id,) if store_id else None
    else:
        raise ForbiddenError("Reports are for supervisors and admins")
    if last < first:
        raise ValidationError("The range ends before it starts",
                              {"query": {"to": ["Must be on or after `from`."]}})
    days = (last - first).days + 1
    if days > MAX_DAYS:
        raise ValidationError(f"A report covers at most {MAX_DAYS} days, this asks for {days}",
                              {"query": {"to": [f"At most {MAX_DAYS} days after `from`, inclusive."]}})
    lo, _ = day_bounds(first, tz_name)
    _, hi = day_bounds(last, tz_name)
    return Scope(first, last, tz_name, stores, lo, hi)
