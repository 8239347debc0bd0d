"""Who may act on a store's capacity, and how SP-API's refusals reach the caller.

A store is SP-API's "resource": the capacity operations take the storeId as
`resourceId` (the model's examples and the sandbox address a store that way).
"""

from __future__ import annotations

import logging

from techapi.auth.models import Role, User
from techapi.errors import DomainError, ForbiddenError, ServiceUnavailable, ValidationError
from techapi.spapi.errors import SpApiBadRequest, SpApiError, SpApiNotFound, SpApiUnprocessable

log = logging.getLogger(__name__)

# What SP-API refuses for the request's own sake (its message helps); anything else
# (5xx, throttled, unreachable, credentials refused) is an outage: 503, try later.
REFUSED = (SpApiUnprocessable, SpApiBadRequest, SpApiNotFound)
RETRY_AFTER_SECONDS = 30


def check_store(user: User, store_id: str) -> None:
    """Supervisors act on their own stores, admins on every store; anyone else is 403."""
    if user.role == Role.ADMIN:
        return
    if user.role == Role.SUPERVISOR and store_id in user.store_ids:
        return
    raise ForbiddenError("You do not oversee this store")


def refusal(exc: SpApiError) -> DomainError:
    """SP-API's failure as our answer: unavailable (503, retry later) or refused (422, its message)."""
    if not isinstance(exc, REFUSED):
        log.warning("SP-API unavailable for %s: %s", exc.operation, exc)
        return ServiceUnavailable("SP-API is unavailable; nothing was changed, try again later",
                                  headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    details = [{"code": e.code, "message": e.message, "details": e.details} for e in exc.errors]
    first = exc.errors[0] if exc.errors else None
    message = (f"{first.message} ({first.details})" if first.details else first.message) if first else str(exc)
    return ValidationError(f"SP-API refused it: {message}", errors={"spapi": details} if details else None)
