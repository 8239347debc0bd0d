"""The console's blueprint and what every page shares: the signed-in user, CSRF,
navigation, time display, error pages and security headers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from techapi.clock import as_utc
from techapi.console import session
from techapi.context import deps
from techapi.errors import DomainError

blp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
                static_folder="static", static_url_path="/static")

# The navigation, in order: (label, endpoint). An entry shows once its endpoint
# exists, so a page is added by writing its view and listing it here.
NAV: list[tuple[str, str]] = [
    ("Closures", "console.closures"),
    ("Board", "console.board"),
    ("Time off", "console.time_off"),
    ("Reports", "console.reports"),
]
# Everything a console page loads comes from this server; a page never talks to another host.
CSP = ("default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
F = TypeVar("F", bound=Callable[..., Any])


def signed_in(view: F) -> F:
    """A page for a signed-in supervisor or admin; anyone else goes to the sign-in page."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.user is None:
            return redirect(url_for("console.login", next=request.full_path.rstrip("?")), 303)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@blp.before_request
def _before() -> None:
    session.load_user()
    session.check_csrf()


@blp.after_request
def _after(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")  # pages show a person's data
    return session.forget_flash(response)


def _timezone() -> str:
    user = g.get("user")
    return (user.timezone if user is not None else None) or deps().settings.timezone


@blp.app_template_filter("local")
def local_time(value: datetime | None, with_date: bool = True) -> str:
    """A UTC time in the supervisor's time zone, as a person reads it."""
    if value is None:
        return "—"
    local = as_utc(value).astimezone(ZoneInfo(_timezone()))
    return local.strftime("%a %d %b %Y, %H:%M" if with_date else "%H:%M")


@blp.app_template_filter("iso")
def iso_utc(value: datetime) -> str:
    """For machines (a <time> element's datetime): UTC, ISO 8601."""
    return as_utc(value).isoformat()


@blp.context_processor
def _shared() -> dict[str, Any]:
    nav = [(label, endpoint) for label, endpoint in NAV if endpoint in current_app.view_functions]
    return {"csrf_token": session.csrf_token, "nav": nav, "flashed": session.flashed, "timezone": _timezone}


def error_page(status: int, message: str) -> tuple[str, int]:
    return render_template("console/error.html", status=status, message=message), status


@blp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> tuple[str, int]:
    return error_page(exc.status, exc.message)


@blp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> tuple[str, int]:
    return error_page(exc.code or 500, exc.description or exc.name)
