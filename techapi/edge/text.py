"""Bounded JSON and clean text: the parser and the character rules every input meets.

Python's json module accepts what we never want: nesting deep enough to exhaust the
stack, integers past the 4,300 digits int() will convert, 1e999 (infinity), NaN,
lone surrogates that no database or encoder can store, and NUL, which PostgreSQL
text and jsonb cannot hold. `loads` refuses all of them as a 400.
"""

from __future__ import annotations

import json
import math
from typing import Any

from techapi.errors import BadRequestError

# No body of ours nests past 4 levels; a webhook's data may carry a little more.
MAX_DEPTH = 32
# A 64-bit integer is 20 characters, a double at full precision about 24.
MAX_NUMBER_CHARS = 40
NUL = "NUL characters are not allowed in requests"
SURROGATE = "Lone surrogate characters (U+D800 to U+DFFF) are not allowed in requests"
NOT_JSON = "The request body is not valid JSON"


def text_problem(value: str) -> str | None:
    """Why a piece of text cannot be accepted, or None."""
    if "\x00" in value:
        return NUL
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return SURROGATE
    return None


def check_text(value: str) -> None:
    if problem := text_problem(value):
        raise BadRequestError(problem)


def _number_too_long(text: str) -> BadRequestError:
    return BadRequestError(f"A number in the request body is over {MAX_NUMBER_CHARS} characters long",
                           errors={"json": {"_number": [text[:20] + "..."]}})


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _number_too_long(text)
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _number_too_long(text)
    value = float(text)
    if not math.isfinite(value):
        raise BadRequestError(f"The number {text} in the request body is out of range")
    return value


def _parse_constant(name: str) -> Any:
    raise BadRequestError(NOT_JSON, errors={"json": {"_constant": [f"{name} is not JSON"]}})


def _check_tree(value: Any) -> None:
    """Depth and text of a parsed document, without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            check_text(item)
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise BadRequestError(f"The request body is nested more than {MAX_DEPTH} levels deep")
            if isinstance(item, dict):
                for key, child in item.items():
                    check_text(key)
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)


def loads(data: bytes | str) -> Any:
    """Parse a JSON body within our bounds; raise BadRequestError (400) saying why not."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise BadRequestError("The request body is not UTF-8") from None
    try:
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except RecursionError:
        raise BadRequestError(f"The request body is nested more than {MAX_DEPTH} levels deep") from None
    except ValueError:
        raise BadRequestError(NOT_JSON) from None
    _check_tree(value)
    return value
