"""The guide's reschedule reason table, per marketplace and column."""

from __future__ import annotations

import pytest

from techapi.spapi.reasons import reschedule_reasons

US, UK, DE, IN = "ATVPDKIKX0DER", "A1F83G8C2ARO7P", "A1PA6795UKMFR9", "A21TJRUUN4KGV"


def codes(marketplace: str, column: str = "default") -> list[str]:
    return [r.code for r in reschedule_reasons(marketplace, column)]


def test_default_column_per_marketplace():
    assert codes(US) == ["RS4", "RS6", "RS9", "RS10", "RS11"]
    assert codes(UK) == ["RS6", "RS8", "RS9", "RS10", "RS11", "RS12"]
    assert codes(DE) == ["RS6", "RS8", "RS9", "RS10", "RS11", "RS12"]
    assert codes(IN) == ["RS6", "RS9", "RS11", "RS12"]
    assert codes("UNKNOWNMARKET") == []


def test_heavy_bulky_column_has_the_delivery_codes_in_the_us_and_follow_ups_in_de():
    assert {"DRS1", "DRS6", "SRS1", "RS8"} <= set(codes(US, "heavy_bulky"))
    assert {"RS1", "RS2", "RS3", "RS5"} <= set(codes(DE, "heavy_bulky"))
    assert "RS7" not in codes(US, "heavy_bulky") + codes(DE, "heavy_bulky")
    assert reschedule_reasons(US)[0].description == "Provider cannot meet original appointment"


def test_unknown_column_is_refused():
    with pytest.raises(ValueError):
        reschedule_reasons(US, "weekly")
