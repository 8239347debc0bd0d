"""The day board's late-start flag (the performance report's on-time rule, live)
and the report chart's layout: pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from techapi.console.board import late_start
from techapi.console.chart import SERIES, technician_chart
from techapi.reports.figures import TechnicianFigures
from techapi.reports.scope import Scope
from techapi.reports.technicians import TechnicianReport

WINDOW = (datetime(2026, 6, 15, 10, tzinfo=UTC), datetime(2026, 6, 15, 12, tzinfo=UTC))
GRACE = timedelta(minutes=15)


def at(hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 6, 15, hh, mm, tzinfo=UTC)


@pytest.mark.parametrize("started, now, late", [
    (None, at(12, 15), False),  # the window's end plus the grace: not yet late
    (None, at(12, 16), True),
    (None, at(9), False),
    (at(9, 50), at(13), False),  # a little early is on time
    (at(11, 59), at(13), False),  # anywhere in the window is on time
    (at(12, 15), at(13), False),
    (at(12, 16), at(13), True),
])
def test_a_start_is_late_only_after_the_windows_end_and_the_grace(started, now, late):
    assert late_start("NOT_SERVICED", "ACTIVE", WINDOW, started, now, GRACE) is late


@pytest.mark.parametrize("status, appointment", [("COMPLETED", "COMPLETED"), ("CANCELLED", "CANCELLED"),
                                                 ("NOT_SERVICED", "CANCELLED")])
def test_a_job_that_is_over_or_has_no_active_appointment_is_never_late_for_want_of_a_start(status, appointment):
    assert late_start(status, appointment, WINDOW, None, at(18), GRACE) is False


def test_a_job_without_an_appointment_is_never_late():
    assert late_start("PENDING_SCHEDULE", None, None, None, at(18), GRACE) is False


def test_the_chart_draws_every_figure_on_one_scale_with_the_largest_bar_longest():
    scope = Scope(date(2026, 6, 1), date(2026, 6, 7), "UTC", None, at(0), at(0))
    busy = TechnicianFigures("T1", "Sofia Brown", jobs_assigned=10, started_on_time=5, completed_within_window=0)
    idle = TechnicianFigures("T2", None, jobs_assigned=2)
    chart = technician_chart(TechnicianReport(scope, 15, [busy, idle]))
    assert [g.label for g in chart.groups] == ["Sofia Brown", "T2"]
    widths = [[b.width for b in g.bars] for g in chart.groups]
    assert widths[0][0] == max(max(w) for w in widths) and widths[0][1] * 2 == widths[0][0]
    assert widths[0][2] == 0 and widths[1][0] * 5 == widths[0][0]
    assert len(chart.legend) == len(SERIES) and chart.groups[1].bars[0].y > chart.groups[0].bars[-1].y


def test_an_empty_report_still_has_a_scale():
    scope = Scope(date(2026, 6, 1), date(2026, 6, 7), "UTC", None, at(0), at(0))
    chart = technician_chart(TechnicianReport(scope, 15, [TechnicianFigures("T1")]))
    assert chart.scale_max == 1 and [b.width for b in chart.groups[0].bars] == [0, 0, 0]
