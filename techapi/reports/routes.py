"""Reports for supervisors and admins."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from techapi.apidoc import error_answers
from techapi.auth.guard import current_user, login_required
from techapi.context import deps
from techapi.db import get_session
from techapi.reports import csv_export
from techapi.reports.schemas import TechnicianReportQuerySchema, TechnicianReportSchema
from techapi.reports.scope import report_scope
from techapi.reports.technicians import TechnicianReport, technician_report

blp = Blueprint("reports", __name__, url_prefix="/v1/reports", description="Reports")
answers = error_answers(blp, {403: "Not a supervisor or admin, or a store you do not oversee"})
CSV = "text/csv"
# Both bodies of the 200, written out: a `content` given through `doc` replaces the JSON one.
CSV_DOC = {"responses": {"200": {
    "description": "Per technician, as JSON; as CSV with `Accept: text/csv`",
    "content": {
        "application/json": {"schema": TechnicianReportSchema},
        CSV: {"schema": {"type": "string"}, "example": "technicianId,name,jobsAssigned,...\r\n"},
    },
}}}


@blp.route("/technicians")
class TechnicianReportView(MethodView):
    @blp.doc(operationId="getTechnicianReport")
    @login_required()
    @blp.arguments(TechnicianReportQuerySchema, location="query")
    @blp.response(200, TechnicianReportSchema)
    @blp.doc(**CSV_DOC)
    @answers(401, 403, 422)
    def get(self, args: dict[str, Any]) -> TechnicianReport | Response:
        """Technician performance per day range; `Accept: text/csv` for a spreadsheet

        Per technician over a day range (at most 92 days): jobs assigned, started on time, completed within their
        window, reschedules by reason, no-shows, median time on site, time off. JSON, or CSV with `Accept:
        text/csv`. Supervisors see their stores, admins all.
        """
        d, user = deps(), current_user()
        scope = report_scope(user, args["from_"], args["to"], args.get("storeId"),
                             user.timezone or d.settings.timezone)
        report = technician_report(get_session(), scope, d.settings.ontime_grace_minutes)
        if request.accept_mimetypes.best_match(["application/json", CSV]) == CSV:
            return Response(csv_export.technician_csv(report), mimetype=CSV, headers={
                "Content-Disposition": f'attachment; filename="{csv_export.file_name(report)}"'})
        return report
