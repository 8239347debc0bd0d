"""Login, logout and the caller's own profile."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from techapi.auth import services
from techapi.auth.guard import SECURITY, current_token, current_user, login_required
from techapi.auth.schemas import LoginSchema, MeSchema, MeUpdateSchema, TokenSchema
from techapi.context import deps
from techapi.db import get_session
from techapi.errors import ErrorSchema
from techapi.idempotency import PARAMETER as IDEMPOTENCY_KEY

blp = Blueprint("auth", __name__, url_prefix="/v1", description="Login, logout and profile")


def _me(user) -> dict[str, Any]:
    return {
        "username": user.username,
        "role": user.role,
        "technician_id": user.technician_id,
        "store_ids": user.store_ids,
        "timezone": user.timezone or deps().settings.timezone,
    }


@blp.route("/auth/token")
class Token(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Wrong username or password")
    @blp.alt_response(429, schema=ErrorSchema, description="Too many failed logins for this account or client")
    def post(self, body: dict[str, str]) -> services.IssuedToken:
        """Log in and get a bearer token"""
        d = deps()
        return services.login(
            get_session(), d.passwords, d.settings, d.clock,
            body["username"], body["password"], request.remote_addr or "unknown",
        )


@blp.route("/auth/logout")
class Logout(MethodView):
    @login_required()
    @blp.response(204)
    @blp.alt_response(401, schema=ErrorSchema, description="Missing or invalid token")
    @blp.doc(security=SECURITY)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self) -> None:
        """Revoke the bearer token used for this request"""
        services.logout(get_session(), deps().clock, current_token())


@blp.route("/me")
class Me(MethodView):
    @login_required()
    @blp.response(200, MeSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Missing or invalid token")
    @blp.doc(security=SECURITY)
    def get(self) -> dict[str, Any]:
        """Who am I: role, technician id, stores, time zone"""
        return _me(current_user())

    @login_required()
    @blp.arguments(MeUpdateSchema)
    @blp.response(200, MeSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Missing or invalid token")
    @blp.doc(security=SECURITY)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def patch(self, body: dict[str, Any]) -> dict[str, Any]:
        """Set my time zone (decides what 'today' means for my job list)"""
        user = services.set_timezone(get_session(), current_user(), body["timezone"])
        return _me(user)
