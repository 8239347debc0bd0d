"""The Standard Webhooks signature matrix, on the pure verifier."""

from __future__ import annotations

import base64

import pytest

from techapi.config import decode_webhook_secret
from techapi.webhooks.signature import MalformedHeaders, NotAuthentic, sign, verify

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
OLD = "whsec_" + base64.b64encode(b"o" * 32).decode()
OTHER = "whsec_" + base64.b64encode(b"x" * 32).decode()
NOW = 1_781_000_000
BODY = b'{"type":"job.started","timestamp":"2026-06-15T12:00:00Z","data":{}}'


def headers(secret=SECRET, body=BODY, ts=NOW, webhook_id="msg_1", signature=None):
    sig = signature if signature is not None else sign(decode_webhook_secret(secret), webhook_id, ts, body)
    return {"webhook-id": webhook_id, "webhook-timestamp": str(ts), "webhook-signature": sig}


def check(h, body=BODY, keys=(SECRET,), now=NOW):
    return verify(h, body, [decode_webhook_secret(k) for k in keys], now)


def test_a_valid_signature_passes():
    assert check(headers()) == ("msg_1", NOW)


def test_a_tampered_body_fails():
    with pytest.raises(NotAuthentic):
        check(headers(), body=BODY.replace(b"started", b"finished"))


def test_the_wrong_secret_fails():
    with pytest.raises(NotAuthentic):
        check(headers(secret=OTHER))


def test_the_previous_secret_still_passes_during_rotation():
    assert check(headers(secret=OLD), keys=(SECRET, OLD)) == ("msg_1", NOW)
    with pytest.raises(NotAuthentic):
        check(headers(secret=OLD), keys=(SECRET,))


def test_any_matching_signature_of_several_passes():
    good = headers()["webhook-signature"]
    bad = headers(secret=OTHER)["webhook-signature"]
    assert check(headers(signature=f"{bad} v2,abc {good}"))[0] == "msg_1"
    with pytest.raises(NotAuthentic):
        check(headers(signature=f"{bad} v1,AAAA"))


@pytest.mark.parametrize("offset", [-301, 301, -10_000, 86_400])
def test_stale_and_future_timestamps_fail(offset):
    with pytest.raises(NotAuthentic):
        check(headers(ts=NOW + offset))


@pytest.mark.parametrize("offset", [-299, 0, 299])
def test_timestamps_within_five_minutes_pass(offset):
    assert check(headers(ts=NOW + offset))[1] == NOW + offset


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_headers_are_malformed(missing):
    h = headers()
    del h[missing]
    with pytest.raises(MalformedHeaders):
        check(h)


@pytest.mark.parametrize("field, value", [
    ("webhook-timestamp", "12.5"), ("webhook-timestamp", "-1"), ("webhook-timestamp", "soon"),
    ("webhook-id", "a" * 256), ("webhook-id", "bad\nid"), ("webhook-id", "dotted.id"),
])
def test_unreadable_headers_are_malformed(field, value):
    h = headers()
    h[field] = value
    with pytest.raises(MalformedHeaders):
        check(h)


def test_without_a_configured_secret_nothing_verifies():
    with pytest.raises(NotAuthentic):
        check(headers(), keys=())


@pytest.mark.parametrize("value", ["k" * 40, "whsec_***", "whsec_" + base64.b64encode(b"short").decode()])
def test_malformed_secrets_are_refused(value):
    with pytest.raises(ValueError):
        decode_webhook_secret(value)
