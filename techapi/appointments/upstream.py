"""SP-API's refusals and outages, as the answers a waiting person gets."""

from __future__ import annotations

from techapi.errors import DomainError, NotFoundError, ServiceUnavailable, ValidationError
from techapi.spapi.errors import (
    SpApiBadRequest,
    SpApiError,
    SpApiNotFound,
    SpApiUnprocessable,
)

# What a 503 asks the caller to wait: the client has already retried with back-off.
RETRY_AFTER_SECONDS = 30


def spapi_errors(exc: SpApiError) -> list[dict[str, str]]:
    return [{"code": e.code, "message": e.message} for e in exc.errors]


def translated(exc: SpApiError) -> DomainError:
    """422 for a rule SP-API says is broken (with its message), 404 for a job it does
    not know, 503 with Retry-After for everything else (throttled, 5xx, unreachable,
    refused credentials): nothing was changed."""
    if isinstance(exc, SpApiUnprocessable | SpApiBadRequest):
        return ValidationError(f"Amazon refused: {exc.message or exc}", errors={"spapi": spapi_errors(exc)})
    if isinstance(exc, SpApiNotFound):
        return NotFoundError("Amazon does not know this job")
    return ServiceUnavailable("Amazon's scheduling service is unavailable; nothing was changed. Try again later.",
                              headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
