"""A customer's address as the phone shows it (pure)."""

from __future__ import annotations

from typing import Any

ADDRESS_ORDER = ("addressLine1", "addressLine2", "addressLine3", "district", "city", "county")


def one_line(address: dict[str, Any]) -> str:
    """'12 Pine St, Apt 4, Seattle, WA 98101': what a phone shows and a maps app takes."""
    parts = [str(address[k]).strip() for k in ADDRESS_ORDER if address.get(k)]
    region = " ".join(str(address[k]).strip() for k in ("stateOrRegion", "postalCode") if address.get(k))
    if region:
        parts.append(region)
    if address.get("countryCode") and str(address["countryCode"]).upper() != "US":
        parts.append(str(address["countryCode"]))
    return ", ".join(p for p in parts if p)


def with_one_line(address: dict[str, Any] | None) -> dict[str, Any] | None:
    """The address's parts as text, plus `oneLine`."""
    if not address:
        return None
    return {**{k: str(v) for k, v in address.items() if v is not None}, "oneLine": one_line(address)}
