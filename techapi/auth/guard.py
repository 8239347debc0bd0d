"""Bearer-token authentication and role checks for views."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, make_response, request

from techapi.auth.models import AccessToken, Role, User
from techapi.auth.services import authenticate
from techapi.context import deps
from techapi.db import get_session
from techapi.errors import ForbiddenError, UnauthorizedError
from techapi.idempotency import HEADER, MUTATING, run_idempotent

F = TypeVar("F", bound=Callable[..., Any])
SECURITY = [{"bearerAuth": []}]


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise UnauthorizedError()
    return value.strip()


def login_required(*roles: Role) -> Callable[[F], F]:
    """Authenticate the caller; with roles, also require one of them (403 otherwise).
    A mutating request with an Idempotency-Key runs once per (user, key)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            session = get_session()
            user, token = authenticate(session, deps().clock, _bearer())
            # End the read transaction now: on SQLite every transaction holds the
            # write lock, and the view may be slow (image decoding) before it writes.
            session.commit()
            if roles and user.role not in roles:
                raise ForbiddenError("Your role may not do this")
            g.user, g.token = user, token
            if request.method not in MUTATING or HEADER not in request.headers:
                return view(*args, **kwargs)

            def handle() -> Any:
                # Errors are answers too: they are stored and replayed like successes.
                try:
                    return make_response(view(*args, **kwargs))
                except Exception as exc:  # noqa: BLE001 - turned into its JSON error response
                    return make_response(current_app.handle_user_exception(exc))
                finally:
                    session.rollback()  # services have committed; release the connection's lock

            return run_idempotent(deps().db, request, user.id, deps().clock.now(), handle)

        return wrapper  # type: ignore[return-value]

    return decorate


def current_user() -> User:
    return g.user


def current_token() -> AccessToken:
    return g.token
