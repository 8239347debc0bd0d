"""Cancellation reason codes by marketplace, from the guide's table
("Cancellation reason codes by marketplace": Default and Heavy bulk columns)."""

from __future__ import annotations

MARKETPLACE_COUNTRY = {
    "ATVPDKIKX0DER": "US",
    "A1F83G8C2ARO7P": "UK",
    "A1PA6795UKMFR9": "DE",
    "A21TJRUUN4KGV": "IN",
    "A2VIGQ35RCS4UG": "AE",
    "A1VC38T7YXB528": "JP",
}

_IN = {"IN"}
# code: (countries in the Default column, countries in the Heavy bulk column)
CANCELLATION_CODES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    code: (frozenset(default), frozenset(heavy))
    for code, default, heavy in [
        ("S1", {"US", "IN", "UK", "DE"}, {"US", "IN", "UK", "DE"}),
        ("S2", set(), {"DE"}),
        ("S3", {"US", "IN", "UK", "DE"}, {"US", "IN", "UK", "DE"}),
        ("S4", set(), {"DE"}),
        ("S5", set(), {"DE"}),
        ("S6", set(), {"DE"}),
        ("S13", {"US", "IN", "UK", "DE"}, {"US", "IN", "UK"}),
        ("S14", {"US"}, {"US"}),
        ("S15", {"US", "IN", "UK", "DE"}, {"US", "IN", "UK"}),
        ("S16", {"US", "UK", "DE"}, {"US", "UK"}),
        ("S17", {"US", "IN"}, {"US", "IN"}),
        ("S20", _IN, _IN),
        ("S27", _IN, _IN),
        *[(f"S{n}", _IN, set()) for n in (31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44,
                                           45, 46, 47, 51, 52, 55)],
    ]
}


def allowed_cancellation_codes(marketplace_id: str, heavy_bulky: bool = False) -> list[str]:
    country = MARKETPLACE_COUNTRY.get(marketplace_id)
    if country is None:
        return []
    column = 1 if heavy_bulky else 0
    codes = [code for code, cols in CANCELLATION_CODES.items() if country in cols[column]]
    return sorted(codes, key=lambda c: int(c[1:]))
