"""The technician report as CSV (RFC 4180), safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from typing import Any

from techapi.reports.technicians import TechnicianReport

HEADER = ("technicianId", "name", "jobsAssigned", "startedOnTime", "completedWithinWindow", "rescheduled",
          "rescheduledByReason", "noShows", "medianOnSiteMinutes", "timeOffMinutes")
# A cell starting with one of these is a formula to Excel, LibreOffice and Sheets
# (OWASP "CSV injection"); a leading quote makes it text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return "'" + text if isinstance(value, str) and text.startswith(FORMULA_STARTS) else text


def technician_csv(report: TechnicianReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for t in report.technicians:
        by_reason = "; ".join(f"{code}={n}" for code, n in sorted(t.rescheduled_by_reason.items()))
        writer.writerow([cell(v) for v in (
            t.technician_id, t.name, t.jobs_assigned, t.started_on_time, t.completed_within_window,
            t.rescheduled, by_reason, t.no_shows, t.median_on_site_minutes, t.time_off_minutes)])
    return out.getvalue()


def file_name(report: TechnicianReport) -> str:
    return f"technicians-{report.scope.first.isoformat()}-to-{report.scope.last.isoformat()}.csv"
