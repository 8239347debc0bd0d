"""`@idempotent`: a view's retries answered from the stored first answer."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import current_app, g, make_response, request

from techapi.context import deps
from techapi.db import end_read, get_session
from techapi.idempotency.records import HEADER, MUTATING, run_idempotent

F = TypeVar("F", bound=Callable[..., Any])


def idempotent(view: F) -> F:
    """A mutating request with an Idempotency-Key runs once per (user, key). Goes
    under `login_required`, which sets the caller (g.user)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.method not in MUTATING or HEADER not in request.headers:
            return view(*args, **kwargs)
        session = get_session()
        # The bookkeeping runs in transactions of its own; SQLite allows one writer.
        end_read(session)

        def handle() -> Any:
            # Errors are answers too: they are stored and replayed like successes.
            try:
                return make_response(view(*args, **kwargs))
            except Exception as exc:  # noqa: BLE001 - turned into its JSON error response
                return make_response(current_app.handle_user_exception(exc))
            finally:
                session.rollback()  # the service has committed; release the connection

        d = deps()
        lease = timedelta(seconds=d.settings.request_timeout_seconds)
        return run_idempotent(d.db, request, g.user.id, d.clock.now(), lease, handle)

    wrapper.idempotent = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
