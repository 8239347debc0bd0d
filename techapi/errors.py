"""Domain errors, mapped once to the one JSON error shape {code, status, message, errors}."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

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


class NotFoundError(DomainError):
    status = 404


class UnauthorizedError(DomainError):
    status = 401

    def __init__(self, message: str = "Missing or invalid bearer token") -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="techapi"'})


class ForbiddenError(DomainError):
    status = 403


class ConflictError(DomainError):
    status = 409


class ValidationError(DomainError):
    status = 422


class TooManyRequestsError(DomainError):
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after))})


class UpstreamError(DomainError):
    """SP-API could not be reached or refused; our fault or theirs, never the client's."""

    status = 502


def error_response(status: int, name: str, message: str, errors: Any = None,
                   headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"code": status, "status": name, "message": message}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _http_exception(exc: HTTPException) -> Response:
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
    return error_response(exc.code or 500, exc.name, message, errors, headers)


def _domain_error(exc: DomainError) -> Response:
    from werkzeug.http import HTTP_STATUS_CODES

    return error_response(exc.status, HTTP_STATUS_CODES.get(exc.status, "Error"), exc.message,
                          exc.errors, exc.headers)


def _unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return _http_exception(exc)
    # The traceback goes to the log, never to the client.
    log.exception("unhandled error")
    return error_response(500, "Internal Server Error", "Internal server error; it has been logged")


def refuse_nul_characters() -> None:
    """NUL is never meaningful in our inputs, and PostgreSQL text cannot hold it:
    refuse it at the edge (path, query, JSON body) instead of failing deep down."""
    from flask import request

    data = request.get_data(cache=True) if request.is_json else b""
    if ("\x00" in request.path or b"\x00" in request.query_string or b"%00" in request.query_string
            or b"\\u0000" in data or b"\x00" in data):
        raise DomainError("NUL characters are not allowed in requests")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(HTTPException, _http_exception)
    app.register_error_handler(Exception, _unexpected)
