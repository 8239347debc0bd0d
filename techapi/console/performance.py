"""Technician performance: the report of GET /v1/reports/technicians as a table
and a server-drawn SVG chart, and its CSV (the report's own CSV code)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, g, render_template, request
from marshmallow import ValidationError as SchemaError

from techapi.appointments.slots import caller_zone
from techapi.clock import local_today
from techapi.console import choices
from techapi.console.chart import technician_chart
from techapi.console.pages import blp, signed_in
from techapi.context import deps
from techapi.db import get_session
from techapi.reports import csv_export
from techapi.reports.schemas import TechnicianReportQuerySchema
from techapi.reports.scope import report_scope
from techapi.reports.technicians import TechnicianReport, technician_report

DEFAULT_DAYS = 7  # the last week, today included


def _asked() -> dict[str, Any]:
    """from/to/store of the query string, defaults filled in, checked by the API's schema."""
    today = local_today(deps().clock, caller_zone(g.user, deps()))
    args = {"from": request.args.get("from") or (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
            "to": request.args.get("to") or today.isoformat()}
    if request.args.get("store"):
        args["storeId"] = request.args["store"]
    try:
        return TechnicianReportQuerySchema().load(args)
    except SchemaError as exc:
        raise choices.schema_message(exc, {"from": "From", "to": "To", "storeId": "Store"}) from None


def _report(asked: dict[str, Any]) -> TechnicianReport:
    d, user = deps(), g.user
    scope = report_scope(user, asked["from_"], asked["to"], asked.get("storeId"), caller_zone(user, d))
    return technician_report(get_session(), scope, d.settings.ontime_grace_minutes)


@blp.get("/reports/technicians", endpoint="reports")
@signed_in
def reports() -> str:
    """Technician performance over a range of days: table, chart, CSV."""
    asked = _asked()
    report = _report(asked)
    query = {"from": report.scope.first.isoformat(), "to": report.scope.last.isoformat(),
             "store": asked.get("storeId") or None}
    return render_template("console/reports.html", report=report, chart=technician_chart(report), query=query,
                           stores=choices.stores_of(get_session(), g.user))


@blp.get("/reports/technicians.csv", endpoint="reports_csv")
@signed_in
def reports_csv() -> Response:
    """The same report as CSV (a header row, then a technician a line)."""
    report = _report(_asked())
    return Response(csv_export.technician_csv(report), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{csv_export.file_name(report)}"'})
