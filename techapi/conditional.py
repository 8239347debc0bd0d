"""Conditional GETs: a strong ETag computed from a cheap version of what a view
would answer, and 304 Not Modified for a matching If-None-Match, before the view
loads or serialises anything.

A view's `parts` function returns what its answer depends on: the caller (user,
role, stores, time zone), the query and the versions of the jobs it shows
(techapi.jobs.versions). Hashing the caller in means no two users share a tag."""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from flask import Response, after_this_request, request
from flask_smorest import Blueprint

CACHE_CONTROL = "private, no-cache"
NOT_MODIFIED = ("Not modified: the representation whose ETag you sent in If-None-Match is current "
                "(no body; ETag and Cache-Control as for 200)")


def opaque_tag(parts: Iterable[object]) -> str:
    """The opaque part of a strong entity tag over `parts`, each rendered by repr."""
    digest = hashlib.sha256("\0".join(repr(p) for p in parts).encode()).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def _headers(response: Response, tag: str) -> Response:
    response.headers["ETag"] = tag
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.vary.add("Authorization")
    return response


def conditional_get(blp: Blueprint) -> Callable[..., Callable]:
    """`etag = conditional_get(blp)` then `@etag(parts)` under the view's `@blp.response`:
    `parts` takes the view's arguments and returns what its answer depends on. With
    `of_answer` (the view's answer, then its arguments: the same parts, read off the
    answer), a request without If-None-Match skips `parts` and its query: the tag
    comes from what the view loaded anyway."""

    def decorate(parts: Callable[..., Iterable[object]],
                 of_answer: Callable[..., Iterable[object]] | None = None) -> Callable:
        def wrap(view: Callable) -> Callable:
            @functools.wraps(view)
            def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:  # a MethodView's method
                if of_answer is not None and "If-None-Match" not in request.headers:
                    answer = view(self, *args, **kwargs)
                    tag = f'"{opaque_tag(of_answer(answer, *args, **kwargs))}"'
                    after_this_request(lambda response: _tagged(response, tag))
                    return answer
                opaque = opaque_tag(parts(*args, **kwargs))
                tag = f'"{opaque}"'
                # werkzeug parses the list, W/ prefixes and `*`; contains_weak is the weak
                # comparison RFC 9110 asks for If-None-Match (`*` matches any current answer).
                if request.if_none_match.contains_weak(opaque):
                    return _headers(Response(status=304), tag)
                after_this_request(lambda response: _tagged(response, tag))
                return view(self, *args, **kwargs)

            # The If-None-Match header is documented with the 304 (techapi.apidoc.ConditionalGets).
            return blp.alt_response(304, description=NOT_MODIFIED)(wrapper)

        return wrap

    return decorate


def _tagged(response: Response, tag: str) -> Response:
    return _headers(response, tag) if response.status_code == 200 else response
