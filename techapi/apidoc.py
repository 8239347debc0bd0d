"""Documenting a view's error answers and its security in one decorator."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask_smorest import Blueprint

from techapi.auth.guard import SECURITY
from techapi.errors import ErrorSchema


def error_answers(blp: Blueprint, texts: Mapping[int, str]) -> Callable[..., Callable[[Any], Any]]:
    """`answers(401, 404, 409: "why")`: the error responses a view documents, with
    this blueprint's wording, plus its bearer-token security."""

    def answers(*codes: int, **special: str) -> Callable[[Any], Any]:
        def decorate(view: Any) -> Any:
            for code in codes:
                text = special.get(f"e{code}", texts[code])
                view = blp.alt_response(code, schema=ErrorSchema, description=text)(view)
            return blp.doc(security=SECURITY)(view)

        return decorate

    return answers
