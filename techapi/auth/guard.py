"""Bearer-token authentication and role checks for views."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, request

from techapi.auth.models import AccessToken, Role, User
from techapi.auth.services import authenticate, authenticate_reader
from techapi.context import deps
from techapi.db import get_session, read_only
from techapi.edge.requests import check_form
from techapi.errors import ForbiddenError, UnauthorizedError

F = TypeVar("F", bound=Callable[..., Any])


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise UnauthorizedError()
    return value.strip()


def login_required(*roles: Role, reads_only: bool = False) -> Callable[[F], F]:
    """Authenticate the caller (401 otherwise); with roles, also require one of them (403).
    `reads_only`: the view writes nothing, so the request's session needs no transaction."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if reads_only:
                read_only()
            check = authenticate_reader if reads_only else authenticate
            user, token = check(get_session(), deps().clock, _bearer())
            if roles and user.role not in roles:
                raise ForbiddenError("Your role may not do this")
            g.user, g.token = user, token
            if request.mimetype == "multipart/form-data":
                check_form()  # only now: nobody without a token gets an upload spooled to disk
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def current_user() -> User:
    return g.user


def current_token() -> AccessToken:
    return g.token
