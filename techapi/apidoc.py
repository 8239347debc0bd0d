"""The API object and the one decorator that documents a view's error answers,
its bearer-token security and, for writes, the Idempotency-Key header."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint
from werkzeug.exceptions import HTTPException

from techapi.errors import ErrorSchema, http_error_response
from techapi.idempotency.records import HEADER, MUTATING

SECURITY = [{"bearerAuth": []}]
IDEMPOTENCY_KEY = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "Makes a retry safe: the first response to this key is stored for 24 hours and "
                   "replayed for a retry with the same request; the same key with another request is 422, "
                   "a retry while the first is still running is 409.",
}


# What most errors mean wherever they are answered; a blueprint words its own on top.
COMMON_TEXTS = {
    401: "Missing or invalid token",
    403: "Your role may not do this",
    404: "No such job, or not yours",
    422: "The request did not validate",
}


class Api(SmorestApi):
    """flask-smorest's Api with our error schema and error body."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Any:
        return http_error_response(error)


def error_answers(blp: Blueprint, texts: Mapping[int, str] | None = None) -> Callable[..., Callable[[Any], Any]]:
    """`answers(401, 404, e409="why")` documents the error responses a view gives,
    in this blueprint's wording (`texts`, over COMMON_TEXTS). Unless `public=True` it also documents the
    bearer-token security and, on POST/PUT/PATCH/DELETE, the Idempotency-Key
    header (`@idempotent` honours it)."""

    wording = {**COMMON_TEXTS, **(texts or {})}

    def answers(*codes: int, public: bool = False, **special: str) -> Callable[[Any], Any]:
        def decorate(view: Any) -> Any:
            for code in codes:
                text = special.get(f"e{code}", wording[code])
                view = blp.alt_response(code, schema=ErrorSchema, description=text)(view)
            if public:
                return view
            doc: dict[str, Any] = {"security": SECURITY}
            if view.__name__.upper() in MUTATING:
                doc["parameters"] = [IDEMPOTENCY_KEY]
            return blp.doc(**doc)(view)

        return decorate

    return answers
