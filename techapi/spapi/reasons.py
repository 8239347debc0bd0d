"""Cancellation reason codes by marketplace, from the guide's table
("Cancellation reason codes by marketplace"). Only its Default column: the guide
has a Heavy bulk column too, but the model's ServiceJob carries no service type
that would tell us which column applies, so it cannot be chosen."""

from __future__ import annotations

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
