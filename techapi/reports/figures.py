"""The pure part of the technician report: what counts as on time, within the
window, a no-show, and how time off is clipped to the range."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

# Codes that mean the customer was not there when the technician came. The guide's
# reschedule table has RS11 "Customer didn't show up"; its cancellation table S1
# "Customer didn't show up.". S4 "Provider unable to contact customer", S39 "We could
# not reach you" and S44 "Slot missed" are left out: they do not say the technician
# was at the door.
NO_SHOW_RESCHEDULES = frozenset({"RS11"})
NO_SHOW_CANCELLATIONS = frozenset({"S1"})


def started_on_time(start: datetime | None, window_start: datetime, window_end: datetime,
                    grace: timedelta) -> bool:
    """A recorded start inside the appointment window, or at most `grace` outside it
    on either side (a few minutes early is as good as a few late)."""
    return start is not None and window_start - grace <= start <= window_end + grace


def completed_within_window(finish: datetime | None, window_start: datetime, window_end: datetime) -> bool:
    """A recorded finish inside the appointment window itself: no grace."""
    return finish is not None and window_start <= finish <= window_end


def on_site_minutes(start: datetime | None, finish: datetime | None) -> float | None:
    if start is None or finish is None or finish < start:
        return None
    return (finish - start).total_seconds() / 60


def clipped_minutes(start: datetime, end: datetime, lo: datetime, hi: datetime) -> int:
    """Minutes of [start, end) that fall inside [lo, hi)."""
    overlap = min(end, hi) - max(start, lo)
    return max(0, int(overlap.total_seconds() // 60))


@dataclass
class TechnicianFigures:
    technician_id: str
    name: str | None = None
    jobs_assigned: int = 0
    started_on_time: int = 0
    completed_within_window: int = 0
    rescheduled_by_reason: dict[str, int] = field(default_factory=dict)
    no_shows: int = 0
    time_off_minutes: int = 0
    on_site: list[float] = field(default_factory=list)

    @property
    def rescheduled(self) -> int:
        return sum(self.rescheduled_by_reason.values())

    @property
    def median_on_site_minutes(self) -> float | None:
        return round(statistics.median(self.on_site), 1) if self.on_site else None

    def add_reschedule(self, reason_code: str) -> None:
        self.rescheduled_by_reason[reason_code] = self.rescheduled_by_reason.get(reason_code, 0) + 1
        if reason_code in NO_SHOW_RESCHEDULES:
            self.no_shows += 1
