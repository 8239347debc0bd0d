"""Login with Amazon's token endpoint: refresh-token grants for the one sandbox app."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from techapi.spapi.sandbox.app import Sandbox

# Counted under this key rather than the route's name: statistics and tests already read it.
LWA_TOKEN = "lwaToken"


def token(sandbox: Sandbox, request: Request) -> Response:
    form, config = request.form, sandbox.config
    if form.get("grant_type") != "refresh_token":
        return _error(sandbox, 400, "unsupported_grant_type", "Only refresh_token is supported")
    if not (hmac.compare_digest(form.get("client_id", ""), config.client_id)
            and hmac.compare_digest(form.get("client_secret", ""), config.client_secret)):
        return _error(sandbox, 401, "invalid_client", "Client authentication failed")
    if not hmac.compare_digest(form.get("refresh_token", ""), config.refresh_token):
        return _error(sandbox, 400, "invalid_grant", "The request has an invalid grant parameter")
    access_token = "Atza|" + secrets.token_urlsafe(24)
    now = sandbox.clock.now()
    with sandbox.state.lock:
        sandbox.state.access_tokens[access_token] = now + timedelta(seconds=config.token_ttl_seconds)
        sandbox.state.token_grants += 1
    sandbox.state.expire_tokens(now)
    return sandbox.respond(LWA_TOKEN, 200, {
        "access_token": access_token, "refresh_token": config.refresh_token,
        "token_type": "bearer", "expires_in": config.token_ttl_seconds,
    })


def _error(sandbox: Sandbox, status: int, code: str, description: str) -> Response:
    # LWA answers in OAuth 2.0's error shape, not SP-API's ErrorList.
    return sandbox.respond(LWA_TOKEN, status, {"error": code, "error_description": description})
