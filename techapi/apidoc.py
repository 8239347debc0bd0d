"""The API object and the one decorator that documents a view's error answers,
its bearer-token security and, for writes, the Idempotency-Key header."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from apispec import BasePlugin
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

IF_NONE_MATCH = {
    "in": "header",
    "name": "If-None-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": "ETags of representations you hold (or `*`): when one still matches (weak comparison, "
                   "RFC 9110), the answer is 304 with no body.",
}


# What most errors mean wherever they are answered; a blueprint words its own on top.
COMMON_TEXTS = {
    401: "Missing or invalid token",
    403: "Your role may not do this",
    404: "No such job, or not yours",
    422: "The request did not validate",
}


def _error(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Error"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


class JsonBodyErrors(BasePlugin):
    """Every operation that takes a JSON body documents what techapi.edge answers
    before the view runs: 400 for a body it will not parse, 415 for another type."""

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        for operation in (operations or {}).values():
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                responses = operation.setdefault("responses", {})
                responses.setdefault("400", _error("The body is not JSON within bounds (nesting, number size), "
                                                   "or carries a NUL or a lone surrogate"))
                responses.setdefault("415", _error("The body was not sent as application/json"))


class ConditionalGets(BasePlugin):
    """Every operation that documents a 304 (techapi.conditional) takes If-None-Match;
    added here because a view's own `parameters` would replace its query's."""

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        for operation in (operations or {}).values():
            if {"304", 304} & set(operation.get("responses", {})):
                operation.setdefault("parameters", []).append(IF_NONE_MATCH)


class Api(SmorestApi):
    """flask-smorest's Api with our error schema and error body."""

    ERROR_SCHEMA = ErrorSchema

    def __init__(self, app: Any = None, *, spec_kwargs: dict[str, Any] | None = None) -> None:
        spec_kwargs = dict(spec_kwargs or {})
        spec_kwargs["extra_plugins"] = [*spec_kwargs.get("extra_plugins", ()), JsonBodyErrors(), ConditionalGets()]
        super().__init__(app, spec_kwargs=spec_kwargs)

    def _register_pagination_header(self) -> None:
        """No view pages with flask-smorest's pagination: its header schema would sit unused in the document."""

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
                text = special[f"e{code}"] if f"e{code}" in special else wording[code]
                view = blp.alt_response(code, schema=ErrorSchema, description=text)(view)
            if public:
                return view
            doc: dict[str, Any] = {"security": SECURITY}
            if view.__name__.upper() in MUTATING:
                doc["parameters"] = [IDEMPOTENCY_KEY]
            return blp.doc(**doc)(view)

        return decorate

    return answers
