"""The one place that says what time it is, so tests can freeze or move it."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to (tests)."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._at = at.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._at

    def advance(self, **delta: float) -> None:
        with self._lock:
            self._at += timedelta(**delta)


def as_utc(value: datetime) -> datetime:
    """Aware UTC datetime; naive values (SQLite gives those back) are taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def day_bounds(day: date, tz_name: str) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day, in UTC. Handles DST-length days."""
    tz = ZoneInfo(tz_name)
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_today(clock: Clock, tz_name: str) -> date:
    return clock.now().astimezone(ZoneInfo(tz_name)).date()


def iso_z(value: datetime) -> str:
    """ISO 8601 in UTC with a Z suffix and milliseconds, the form SP-API demands."""
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.") + f"{as_utc(value).microsecond // 1000:03d}Z"


def parse_iso(value: str) -> datetime:
    """Parse ISO 8601; naive values are taken as UTC. Raises ValueError."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return as_utc(parsed)
