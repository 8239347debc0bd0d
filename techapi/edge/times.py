"""The range every date and time a client sends must lie in.

Outside it, arithmetic a step later fails: 9999-12-31 plus a day, or
9999-12-31T23:00-05:00 in UTC, raise OverflowError. No job of ours is dated before
2000 or after 2099, so those are the bounds, for every field and the webhook's data.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from marshmallow import fields

EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
OUT_OF_RANGE = f"Must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}."


def in_range(value: date | datetime) -> bool:
    """For a datetime, its own calendar day (before any conversion that could overflow)."""
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST <= day <= LATEST


class _InRange:
    """A marshmallow field whose value must fall on a day within EARLIEST..LATEST."""

    default_error_messages = {"range": OUT_OF_RANGE}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        parsed = super()._deserialize(value, attr, data, **kwargs)  # type: ignore[misc]
        if not in_range(parsed):
            raise self.make_error("range")  # type: ignore[attr-defined]
        return parsed


class Day(_InRange, fields.Date):
    """A calendar day (YYYY-MM-DD) within EARLIEST..LATEST."""


class Moment(_InRange, fields.AwareDateTime):
    """An ISO 8601 time with a UTC offset, on a day within EARLIEST..LATEST."""
