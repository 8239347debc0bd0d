"""Login, logout and the caller's own profile."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from techapi.apidoc import error_answers
from techapi.auth import services
from techapi.auth.guard import current_token, current_user, login_required
from techapi.auth.schemas import LoginSchema, MeSchema, MeUpdateSchema, TokenSchema
from techapi.conditional import conditional_get
from techapi.context import deps
from techapi.db import get_session
from techapi.idempotency.decorator import idempotent

blp = Blueprint("auth", __name__, url_prefix="/v1", description="Login, logout and profile")
answers = error_answers(blp, {429: "Too many failed logins for this account or client"})
etag = conditional_get(blp)


@blp.route("/auth/token")
class Token(MethodView):
    @blp.doc(operationId="createToken")
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    @answers(401, 429, public=True, e401="Wrong username or password")
    def post(self, body: dict[str, str]) -> services.IssuedToken:
        """Log in and get a bearer token

        Exchange a username and password for a bearer token to send as `Authorization: Bearer <token>`. Repeated
        failures for one account or one client are 429 for a while.
        """
        d = deps()
        return services.login(get_session(), d.passwords, d.settings, d.clock,
                              body["username"], body["password"], request.remote_addr or "unknown")


@blp.route("/auth/logout")
class Logout(MethodView):
    # Never replayed: whatever Idempotency-Key comes with it, the token it is sent
    # with is revoked (a replayed 204 would leave the current token alive).
    @blp.doc(operationId="logout")
    @login_required()
    @blp.response(204)
    @answers(401)
    def post(self) -> None:
        """Revoke the bearer token used for this request

        The token used for this request stops working at once, on every server. Never replayed from an Idempotency-
        Key.
        """
        services.logout(get_session(), deps().clock, current_token())


@blp.route("/me")
class Me(MethodView):
    @blp.doc(operationId="getMe")
    @login_required()
    @blp.response(200, MeSchema)
    @answers(401)
    @etag(lambda: ("me", current_user().id, services.profile(current_user(), deps().settings.timezone)))
    def get(self) -> services.Profile:
        """Who am I: role, technician id, stores, time zone

        The caller's profile: role, technician ID (technicians), the stores they work at or oversee, and the time
        zone that decides their 'today'.
        """
        return services.profile(current_user(), deps().settings.timezone)

    @blp.doc(operationId="updateMe")
    @login_required()
    @idempotent
    @blp.arguments(MeUpdateSchema)
    @blp.response(200, MeSchema)
    @answers(401)
    def patch(self, body: dict[str, Any]) -> services.Profile:
        """Set my time zone (decides what 'today' means for my job list)

        Set the caller's IANA time zone; the job list's default day is today in that zone.
        """
        user = services.set_timezone(get_session(), current_user(), body["timezone"])
        return services.profile(user, deps().settings.timezone)
