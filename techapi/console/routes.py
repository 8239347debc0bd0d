"""The console's pages: sign-in, the closures to decide, one job's page.

Thin views over the API's own services and queries: the same store scope, the
same state machine, the same lockout. Forms post and redirect (POST/redirect/GET).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, g, make_response, redirect, render_template, request, url_for
from marshmallow import ValidationError as SchemaError

from techapi.closures import services as closure_services
from techapi.closures.models import ClosureState
from techapi.closures.queries import list_closures
from techapi.closures.schemas import ClosureQuerySchema, RejectSchema
from techapi.console import session
from techapi.console.pages import blp, error_page, signed_in
from techapi.context import deps
from techapi.db import get_session
from techapi.errors import ConflictError, ForbiddenError, TooManyRequestsError, UnauthorizedError
from techapi.errors import ValidationError as DomainValidation
from techapi.reads.jobs import job_detail, scope_of

# The status filter: the API's states; "" lists them all.
STATUSES = [("PENDING_APPROVAL", "Pending approval"), ("QUEUED", "Approved, being sent"),
            ("COMPLETED", "Completed"), ("FAILED", "Failed"), ("REJECTED", "Rejected"), ("", "All")]


def _local(target: str | None, default: str) -> str:
    """Only a path inside the console: never a redirect to another site."""
    if not target or not target.startswith("/console") or "\\" in target or urlsplit(target).netloc:
        return default
    return target


@blp.get("")
@blp.get("/")
def index() -> Response:
    return redirect(url_for("console.closures"))


@blp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    """Sign in with the API's accounts: supervisors and admins."""
    target = _local(request.values.get("next"), url_for("console.closures"))
    if g.user is not None:
        return redirect(target, 303)
    error, status = None, 200
    if request.method == "POST":
        try:
            issued = session.sign_in(request.form.get("username", ""), request.form.get("password", ""))
        except (UnauthorizedError, ForbiddenError, TooManyRequestsError) as exc:
            error, status = exc.message, exc.status
        else:
            response = redirect(target, 303)
            session.set_cookie(response, session.COOKIE, issued.access_token, max_age=issued.expires_in)
            session.clear_cookie(response, session.LOGIN_COOKIE)
            return response
    signed_out = request.args.get("signed_out") == "1"
    response = make_response(render_template("console/login.html", error=error, next=target,
                                             signed_out=signed_out), status)
    session.set_cookie(response, session.LOGIN_COOKIE, session.login_nonce())
    return response


@blp.post("/logout")
def logout() -> Response:
    """Sign out: the session's token is revoked, everywhere."""
    session.sign_out()
    response = redirect(url_for("console.login", signed_out=1), 303)
    session.clear_cookie(response, session.COOKIE)
    return response


@blp.get("/closures")
@signed_in
def closures() -> str | tuple[str, int]:
    """Closures to decide: those of my stores, oldest request first, pending by default."""
    status = request.args.get("status", ClosureState.PENDING_APPROVAL.value)
    try:
        query = ClosureQuerySchema().load({"status": status} if status else {})
    except SchemaError:
        return error_page(422, f"Unknown closure status {status!r}")
    found = list_closures(get_session(), g.user, query.get("status"))
    return render_template("console/closures.html", closures=found, status=status, statuses=STATUSES,
                           scope_of=scope_of)


def _decided(job_id: str, message: str) -> Response:
    response = redirect(_local(request.form.get("next"), url_for("console.closures")), 303)
    session.flash(response, message, "success")
    return response


def _refused(exc: ConflictError | DomainValidation | SchemaError) -> Response:
    """A decision the closure's state refuses: said on the page the supervisor came from."""
    message = exc.message if isinstance(exc, ConflictError | DomainValidation) else "Give a reason (1-500 characters)"
    response = redirect(_local(request.form.get("next"), url_for("console.closures")), 303)
    session.flash(response, message, "error")
    return response


@blp.post("/jobs/<job_id>/closure/approve")
@signed_in
def approve(job_id: str) -> Response:
    """Approve a pending closure: queued to be sent to Amazon."""
    try:
        closure_services.approve(deps(), get_session(), g.user, job_id)
    except (ConflictError, DomainValidation) as exc:
        return _refused(exc)
    return _decided(job_id, f"Approved the closure of job {job_id}: it is being sent to Amazon.")


@blp.post("/jobs/<job_id>/closure/reject")
@signed_in
def reject(job_id: str) -> Response:
    """Reject a pending closure with a reason the technician sees."""
    try:
        body = RejectSchema().load({"reason": request.form.get("reason", "")})
        closure_services.reject(deps(), get_session(), g.user, job_id, body["reason"])
    except (ConflictError, DomainValidation, SchemaError) as exc:
        return _refused(exc)
    return _decided(job_id, f"Rejected the closure of job {job_id}; the technician sees your reason.")


@blp.get("/jobs/<job_id>")
@signed_in
def job(job_id: str) -> str:
    """Everything about one job, and its audit history in time order."""
    detail = job_detail(get_session(), g.user, job_id, deps().settings)
    history = closure_services.history(get_session(), g.user, job_id)
    return render_template("console/job.html", detail=detail, history=history.events)
