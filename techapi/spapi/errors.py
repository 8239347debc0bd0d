"""Typed SP-API failures carrying SP-API's own errors[].code/message."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorDetail:
    code: str
    message: str
    details: str = ""


class SpApiError(Exception):
    """Base class: an SP-API call that did not succeed."""

    status: int | None = None

    def __init__(
        self,
        operation: str,
        status: int | None,
        errors: list[ErrorDetail] | None = None,
        request_id: str | None = None,
        message: str | None = None,
    ) -> None:
        self.operation = operation
        self.status = status
        self.errors = errors or []
        self.request_id = request_id
        first = self.errors[0] if self.errors else None
        text = message or (f"{first.code}: {first.message}" if first else "no error body")
        super().__init__(f"{operation} failed ({status}): {text}")

    @property
    def code(self) -> str | None:
        return self.errors[0].code if self.errors else None

    @property
    def message(self) -> str | None:
        return self.errors[0].message if self.errors else None


class SpApiBadRequest(SpApiError):
    """400: the request was malformed (a bug on our side, never retried)."""


class SpApiForbidden(SpApiError):
    """403: not authorised for this resource, or the access token was refused."""


class SpApiNotFound(SpApiError):
    """404: the resource does not exist."""


class SpApiUnprocessable(SpApiError):
    """422: well-formed but refused (job in the wrong state, bad document, ...)."""


class SpApiSlotUnavailable(SpApiUnprocessable):
    """422 "Appointment slot is not available.": the slot was taken meanwhile (or never was one)."""


class SpApiThrottled(SpApiError):
    """429 that persisted through every retry."""


class SpApiServerError(SpApiError):
    """5xx that persisted through every retry."""


class SpApiTransportError(SpApiError):
    """No usable answer: connection refused, timeout, broken response."""


class LwaError(SpApiError):
    """Login with Amazon refused to issue an access token."""


# Why SP-API refuses a fulfillment document for what it holds (the message of
# the model's setAppointmentFulfillmentData cases #23 and #28): the same
# document sent again can only be refused again.
DOCUMENT_CONTENT_REFUSALS = ("Document failed to meet malware check",)


def document_content_refusal(error: SpApiError) -> str | None:
    """SP-API's message refusing a document for what it holds, among its errors, or None."""
    return next((e.message for e in error.errors for reason in DOCUMENT_CONTENT_REFUSALS if reason in e.message),
                None)


_BY_STATUS: dict[int, type[SpApiError]] = {
    400: SpApiBadRequest,
    403: SpApiForbidden,
    404: SpApiNotFound,
    422: SpApiUnprocessable,
    429: SpApiThrottled,
}


def error_for_status(status: int) -> type[SpApiError]:
    if status >= 500:
        return SpApiServerError
    return _BY_STATUS.get(status, SpApiError)


def parse_error_body(body: object) -> list[ErrorDetail]:
    """SP-API sends {"errors": [...]} for most operations and a bare list for
    setAppointmentFulfillmentData (its 4xx schema is ErrorList); accept both."""
    items = body.get("errors") if isinstance(body, dict) else body
    if not isinstance(items, list):
        return []
    out = []
    for item in items:
        if isinstance(item, dict):
            out.append(
                ErrorDetail(
                    code=str(item.get("code", "")),
                    message=str(item.get("message", "")),
                    details=str(item.get("details", "") or ""),
                )
            )
    return out


def raise_body_errors(operation: str, *holders: object) -> None:
    """Some operations answer a refusal with a 2xx whose body (or payload) lists
    errors (an unknown resourceId, a reservation that does not fit): raised as a 422 would be."""
    for holder in holders:
        errors = parse_error_body(holder) if isinstance(holder, dict) else []
        if errors:
            raise SpApiUnprocessable(operation, 200, errors)
