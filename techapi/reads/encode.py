"""List entries as JSON-ready dicts, written out by hand: the job list and the delta
feed answer every poll of every phone, and marshmallow walking a dozen nested fields
per job costs more than everything else the list does after its query.

The schemas in techapi.reads.schemas stay the contract (the OpenAPI document comes
from them) and delegate their dump here; a test checks, over varied jobs, that this
gives exactly what marshmallow gives from those schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from techapi.spapi.types import Appointment

# SP-API's Address parts, passed through as text (AddressSchema declares the same).
ADDRESS_PARTS = ("name", "addressLine1", "addressLine2", "addressLine3", "city", "county", "district",
                 "stateOrRegion", "postalCode", "countryCode", "phone")
ADDRESS_KEYS = ("oneLine", *ADDRESS_PARTS)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _number(value: Any) -> int | None:
    return None if value is None else int(value)


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _appointment(a: Appointment | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {"appointmentId": _text(a.appointment_id), "status": _text(a.status), "start": _when(a.start),
            "end": _when(a.end), "durationInMinutes": _number(a.duration_minutes)}


def summary(entry: Any) -> dict[str, Any]:
    """A reads.jobs.JobSummary as JobSummarySchema dumps it."""
    job, scope, address = entry.job, entry.scope, entry.address
    return {
        "serviceJobId": _text(job.service_job_id),
        "status": _text(job.status),
        "appointment": _appointment(entry.appointment),
        "customer": {"name": _text(job.customer_name), "phone": _text(job.customer_phone)},
        "address": None if address is None else {k: _text(address[k]) for k in ADDRESS_KEYS if k in address},
        "scope": {"title": _text(scope.title), "asin": _text(scope.asin), "quantity": _number(scope.quantity),
                  "requiredSkills": [_text(s) for s in scope.required_skills]},
        "stillNeeded": [_text(n) for n in entry.still_needed],
    }


def job_list(answer: Any) -> dict[str, Any]:
    """A reads.jobs.JobList as JobListSchema dumps it."""
    return {"date": answer.date.isoformat(), "timezone": _text(answer.timezone),
            "jobs": [summary(s) for s in answer.jobs]}


def changes(answer: Any) -> dict[str, Any]:
    """A reads.changes.Changes as ChangesSchema dumps it."""
    return {"changes": [summary(s) for s in answer.changes], "removed": [_text(i) for i in answer.removed],
            "cursor": _text(answer.cursor), "hasMore": bool(answer.has_more), "full": bool(answer.full),
            "windowFrom": answer.window_from.isoformat(), "windowTo": answer.window_to.isoformat(),
            "timezone": _text(answer.timezone)}
