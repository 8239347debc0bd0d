"""Checks every request meets before its view runs, whatever its content type."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request

from techapi.edge.text import NUL, check_text, loads, text_problem
from techapi.errors import BadRequestError, UnsupportedMediaType

FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


def takes_json(view: Any, method: str) -> bool:
    """Whether a view's method parses a JSON body (flask-smorest's `@blp.arguments`, location json)."""
    handler = getattr(getattr(view, "view_class", None), method.lower(), view)
    parameters = getattr(handler, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return any(p.get("in") == "json" for p in parameters)


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def _check_url_and_headers() -> None:
    check_text(request.path)
    for key, value in request.args.items(multi=True):
        check_text(key)
        check_text(value)
    # Header values arrive as Latin-1: no surrogate can be in them, but NUL can.
    if any("\x00" in value for _, value in request.headers.items()):
        raise BadRequestError(NUL)


def check_form() -> None:
    """A form's fields and file names; a multipart body is parsed (spooled to disk) by
    this, so login_required calls it only once the caller is known."""
    for key, value in request.form.items(multi=True):
        check_text(key)
        check_text(value)
    for key, upload in request.files.items(multi=True):
        check_text(key)
        if problem := text_problem(upload.filename or ""):
            raise BadRequestError(problem, errors={"files": {key: [f"file name: {problem}"]}})


def check_request() -> None:
    """NUL and lone surrogates are refused everywhere; a JSON body is parsed within
    bounds; an operation that takes JSON gets JSON or a 415."""
    _check_url_and_headers()
    if not _has_body():
        return
    if request.mimetype == "multipart/form-data":
        pass  # an upload is read only after authentication: login_required calls check_form
    elif request.mimetype in FORMS:
        request.get_data(cache=True)  # parse from a copy: the raw body stays readable (a webhook's signature)
        check_form()
    elif request.is_json:
        loads(request.get_data(cache=True))  # webargs parses it again, now known to be safe
    elif b"\x00" in request.get_data(cache=True):
        raise BadRequestError(NUL)
    if not request.is_json and takes_json(current_app.view_functions.get(request.endpoint), request.method):
        raise UnsupportedMediaType("This operation takes a JSON body: send it with Content-Type: application/json")


def init_app(app: Flask) -> None:
    app.before_request(check_request)
