"""Reason codes by marketplace, from the guide's tables ("Cancellation reason
codes by marketplace", "Reschedule reason codes by marketplace").

Cancellations use only the Default column: the guide has a Heavy bulk column
too, but the model's ServiceJob carries no service type that would tell us which
column applies. Reschedule codes keep every column (Default, Heavy bulk,
Recurring) so a caller that knows the job's kind can pick; the sandbox checks the
Default column.
"""

from __future__ import annotations

from dataclasses import dataclass

MARKETPLACE_COUNTRY = {
    "ATVPDKIKX0DER": "US",
    "A1F83G8C2ARO7P": "UK",
    "A1PA6795UKMFR9": "DE",
    "A21TJRUUN4KGV": "IN",
    "A2VIGQ35RCS4UG": "AE",
    "A1VC38T7YXB528": "JP",
}

_IN = frozenset({"IN"})
_FOUR = frozenset({"US", "IN", "UK", "DE"})
# code: countries whose Default column lists it
CANCELLATION_CODES: dict[str, frozenset[str]] = {
    "S1": _FOUR,
    "S3": _FOUR,
    "S13": _FOUR,
    "S14": frozenset({"US"}),
    "S15": _FOUR,
    "S16": frozenset({"US", "UK", "DE"}),
    "S17": frozenset({"US", "IN"}),
    "S20": _IN,
    "S27": _IN,
    **{f"S{n}": _IN for n in (31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 51, 52, 55)},
}


def allowed_cancellation_codes(marketplace_id: str) -> list[str]:
    country = MARKETPLACE_COUNTRY.get(marketplace_id)
    if country is None:
        return []
    return sorted((code for code, countries in CANCELLATION_CODES.items() if country in countries),
                  key=lambda c: int(c[1:]))


@dataclass(frozen=True)
class RescheduleReason:
    code: str
    description: str
    default: frozenset[str]  # countries whose Default column lists the code
    heavy_bulky: frozenset[str]
    recurring: frozenset[str]


def _c(*countries: str) -> frozenset[str]:
    return frozenset(countries)


_ALL = ("US", "IN", "UK", "DE", "AE", "JP")
_US_JP = _c("US", "JP")
RESCHEDULE_REASONS: tuple[RescheduleReason, ...] = (
    RescheduleReason("RS1", "Customer requested", _c(), _c("DE"), _c()),
    RescheduleReason("RS2", "Product will not be delivered in time", _c(), _c("DE"), _c()),
    RescheduleReason("RS3", "Need follow-up visit", _c(), _c("DE"), _c()),
    RescheduleReason("RS4", "Provider cannot meet original appointment", _c("US", "AE", "JP"),
                     _c("US", "DE", "JP"), _US_JP),
    RescheduleReason("RS5", "Product incompatible or broken", _c(), _c("DE"), _c()),
    RescheduleReason("RS6", "Work is different than scoped", _c(*_ALL), _c("US", "IN", "UK", "JP"), _c()),
    RescheduleReason("RS8", "No longer works with customer schedule", _c("UK", "DE"), _c("US", "UK", "JP"), _US_JP),
    RescheduleReason("RS9", "Problem with Amazon product or its delivery", _c(*_ALL),
                     _c("US", "IN", "UK", "JP"), _c()),
    RescheduleReason("RS10", "Problem with non-Amazon product, delivery, or service",
                     _c("US", "UK", "DE", "AE", "JP"), _c("US", "UK", "JP"), _c()),
    RescheduleReason("RS11", "Customer didn't show up", _c(*_ALL), _c("US", "IN", "UK", "JP"), _US_JP),
    RescheduleReason("RS12", "Provider cannot meet original appointment", _c("IN", "UK", "DE"), _c("IN", "UK"), _c()),
    RescheduleReason("DRS1", "Unable to access location", _c(), _US_JP, _c()),
    RescheduleReason("DRS2", "Customer requested a future date", _c(), _US_JP, _c()),
    RescheduleReason("DRS3", "Customer declined", _c(), _US_JP, _c()),
    RescheduleReason("DRS4", "Delivery will be too late", _c(), _US_JP, _c()),
    RescheduleReason("DRS5", "Can't find access", _c(), _US_JP, _c()),
    RescheduleReason("DRS6", "Business closed", _c(), _US_JP, _c()),
    RescheduleReason("SRS1", "Customer requested cancellation", _c(), _US_JP, _c()),
)  # RS7 is "Code not in use" in every column.


def reschedule_reasons(marketplace_id: str, column: str = "default") -> list[RescheduleReason]:
    """The reschedule reasons valid in a marketplace, for the column
    "default", "heavy_bulky" or "recurring"."""
    if column not in ("default", "heavy_bulky", "recurring"):
        raise ValueError(f"unknown reason column {column!r}")
    country = MARKETPLACE_COUNTRY.get(marketplace_id)
    return [r for r in RESCHEDULE_REASONS if country in getattr(r, column)]
