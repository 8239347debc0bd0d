"""Standard Webhooks signature verification: pure, on the raw bytes, before parsing."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence

TOLERANCE_SECONDS = 300


class MalformedHeaders(ValueError):
    """The webhook-* headers are missing or cannot be read."""


class NotAuthentic(ValueError):
    """No signature matches, the timestamp is stale, or no secret is configured."""


def sign(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def verify(headers: Mapping[str, str], body: bytes, keys: Sequence[bytes], now: int,
           tolerance: int = TOLERANCE_SECONDS) -> tuple[str, int]:
    """Return (webhook id, timestamp), or raise MalformedHeaders or NotAuthentic."""
    webhook_id = headers.get("webhook-id", "")
    raw_ts = headers.get("webhook-timestamp", "")
    header = headers.get("webhook-signature", "")
    if not webhook_id or not raw_ts or not header:
        raise MalformedHeaders("webhook-id, webhook-timestamp and webhook-signature headers are required")
    if len(webhook_id) > 255 or not webhook_id.isascii() or not webhook_id.isprintable() or "." in webhook_id:
        raise MalformedHeaders("webhook-id is malformed")
    # ASCII digits only: str.isdigit() and int() also take "²" and "١٢٣".
    if not (raw_ts.isascii() and raw_ts.isdigit()) or len(raw_ts) > 12:
        raise MalformedHeaders("webhook-timestamp must be Unix seconds")
    timestamp = int(raw_ts)
    if abs(now - timestamp) > tolerance:
        raise NotAuthentic("webhook-timestamp is more than 5 minutes away from the server's clock")
    if not keys:
        raise NotAuthentic("no webhook secret is configured; nothing can be verified")
    expected = [sign(key, webhook_id, timestamp, body).encode() for key in keys]
    for candidate in header.split(" "):
        if candidate.startswith("v1,"):
            given = candidate.encode()
            if any(hmac.compare_digest(given, e) for e in expected):
                return webhook_id, timestamp
    raise NotAuthentic("no valid webhook signature")
