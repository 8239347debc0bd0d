"""Every domain error, and the one JSON error shape {code, status, message, errors}.

Services and pure modules raise these (or their own plain exceptions that a
service translates); the edge maps them to HTTP once, here.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

log = logging.getLogger(__name__)


class ErrorSchema(Schema):
    """Every error body: documented once, used by every endpoint."""

    code = fields.Integer(required=True, metadata={"description": "HTTP status code"})
    status = fields.String(required=True, metadata={"description": "HTTP reason phrase"})
    message = fields.String(required=True, metadata={"description": "What went wrong, for a person"})
    errors = fields.Dict(metadata={"description": "Field errors by location and field name"})


class DomainError(Exception):
    """Raised by services; `status` says how the edge maps it to HTTP."""

    status = 400

    def __init__(self, message: str, errors: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.headers = headers or {}


class BadRequestError(DomainError):
    status = 400


class MalformedWebhook(BadRequestError):
    """Webhook headers or body that cannot be read."""


class UnauthorizedError(DomainError):
    status = 401

    def __init__(self, message: str = "Missing or invalid bearer token") -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="techapi"'})


class WebhookNotAuthentic(DomainError):
    """A webhook whose signature or timestamp does not hold (no bearer challenge)."""

    status = 401


class ForbiddenError(DomainError):
    status = 403


class NotFoundError(DomainError):
    status = 404


class ConflictError(DomainError):
    status = 409


class GoneError(DomainError):
    """Something the client holds (a delta feed cursor) can no longer be honoured."""

    status = 410


class IllegalTransition(ConflictError):
    """A state machine refused the move."""


class StartNotRecorded(ConflictError):
    """A finish arrived before its start (a retry may bring the start)."""


class PayloadTooLarge(DomainError):
    status = 413


class UnsupportedMediaType(DomainError):
    status = 415


class ValidationError(DomainError):
    status = 422


class TooManyRequestsError(DomainError):
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after))})


class ServiceUnavailable(DomainError):
    status = 503


def error_response(status: int, message: str, errors: Any = None,
                   headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"code": status, "status": HTTP_STATUS_CODES.get(status, "Error"), "message": message}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def http_error_response(exc: HTTPException) -> Response:
    """Werkzeug's and webargs' errors (404 routes, 405, 413, parsing, 422 schema) in our shape."""
    data = getattr(exc, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    message = data.get("message") or exc.description or exc.name
    if exc.code == 422 and errors:
        message = "The request did not validate; see errors"
    if exc.code == 400 and errors and "json" in errors:
        message = "The request body is not valid JSON"
    headers = dict(data.get("headers") or {})
    if exc.code == 405:
        headers.update({k: v for k, v in exc.get_headers() if k.lower() == "allow"})
    return error_response(exc.code or 500, message, errors, headers)


def _domain_error(exc: DomainError) -> Response:
    return error_response(exc.status, exc.message, exc.errors, exc.headers)


def _unexpected(exc: Exception) -> Response:
    # The traceback goes to the log, never to the client.
    log.exception("unhandled error")
    return error_response(500, "Internal server error; it has been logged")


def register_error_handlers(app: Flask) -> None:
    """Domain errors and anything unexpected; HTTP exceptions are the Api's (see apidoc.Api)."""
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(Exception, _unexpected)
