"""What an attacker or a careless client sends, built for every operation of the
OpenAPI document: bodies the JSON parser cannot take, NUL and lone surrogates in
every place, dates far outside any job, non-ASCII digits in headers, the wrong
Content-Type. Used by tests/fuzz and bench/fuzz.py; each request must get a 4xx
(or a 2xx) with the usual error body, never a 5xx."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

# Times and days a client may send that no arithmetic of ours can take, or nearly.
FAR_TIMES = ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+05:00", "9999-12-31T23:59:59.999999-23:59",
             "1969-12-31T23:59:59Z", "2100-01-01T00:00:00Z"]
FAR_DAYS = ["9999-12-31", "0001-01-01", "1900-02-28", "2100-01-01"]
BAD_STRINGS = ["\ud800", "a\udfffb", "a\x00b", "\x00", "²", "١٢٣", "x" * 5000]
BAD_INTEGERS = [10**50, -(10**50), 2**63, -(2**31) - 1]
BAD_HEADER_VALUES = ["²", "١٧٨١٥٣٥٦٠٠", "a\x00b", "\u00e9\u00ff", " " * 300]
RAW_BODIES: list[tuple[str, bytes, str]] = [
    ("nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, "application/json"),
    ("nested 40 deep in an object", b'{"a": ' + b"[" * 40 + b"]" * 40 + b"}", "application/json"),
    ("integer of 5,000 digits", b'{"a": ' + b"9" * 5000 + b"}", "application/json"),
    ("1e999", b'{"a": 1e999}', "application/json"),
    ("NaN", b'{"a": NaN}', "application/json"),
    ("lone surrogate key", b'{"\\ud800": 1}', "application/json"),
    ("lone surrogate value", b'{"a": "\\udc00"}', "application/json"),
    ("escaped NUL", b'{"a": "\\u0000"}', "application/json"),
    ("raw NUL", b'{"a": "\x00"}', "application/json"),
    ("not UTF-8", b'{"a": "\xff\xfe"}', "application/json"),
    ("UTF-8 BOM", b'\xef\xbb\xbf{"a": 1}', "application/json"),
    ("empty JSON", b"", "application/json"),
    ("JSON as text/plain", b'{"at": "2026-06-15T12:35:00Z"}', "text/plain"),
    ("escaped NUL as text/plain", b'{"type": "job.started", "a": "\\u0000"}', "text/plain"),
    ("form", b"username=a%00b&password=x&at=9999-12-31", "application/x-www-form-urlencoded"),
    ("octet-stream", b"\x00\x01\x02" * 100, "application/octet-stream"),
    ("multipart", b"--B\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nPHOTO\x00\r\n--B--\r\n",
     "multipart/form-data; boundary=B"),
]


def far_times() -> st.SearchStrategy[str]:
    """ISO 8601 times: the known bad ones, any over the whole range Python allows with
    any offset (the edges are what fail), and ones around the test's day (what passes)."""
    offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
    anywhere = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59),
                            timezones=offsets)
    near = st.datetimes(min_value=datetime(2026, 6, 14), max_value=datetime(2026, 6, 16), timezones=offsets)
    return st.one_of(st.sampled_from(FAR_TIMES), anywhere.map(datetime.isoformat), near.map(datetime.isoformat))


def far_days() -> st.SearchStrategy[str]:
    near = st.dates(min_value=date(2026, 6, 1), max_value=date(2026, 6, 30))
    return st.one_of(st.sampled_from(FAR_DAYS), st.dates(), near).map(str)


@dataclass
class Request:
    label: str
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    data: bytes | None = None
    content_type: str | None = None
    query: str = ""


def _fill_path(template: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _fill(schema: dict[str, Any], spec: dict[str, Any], when: str, day: str, text: str, number: int) -> Any:
    """A value of the schema's shape with every leaf set to the given bad value."""
    schema = _resolve(schema, spec)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {name: _fill(sub, spec, when, day, text, number) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [_fill(schema.get("items", {}), spec, when, day, text, number)]
    if kind == "integer":
        return number
    if kind == "number":
        return float(number)
    if kind == "boolean":
        return True
    if "enum" in schema:
        return schema["enum"][0] if text == "x" else text
    return {"date-time": when, "date": day}.get(schema.get("format", ""), text)


def _bodies(schema: dict[str, Any], spec: dict[str, Any]) -> Iterator[tuple[str, bytes]]:
    """The operation's own shape carrying bad values, one kind at a time, so that
    each reaches the check meant for it (a far date behind clean strings, ...)."""
    for when in FAR_TIMES:
        yield f"time {when}", json.dumps(_fill(schema, spec, when, "2026-06-15", "x", 1)).encode()
    for day in FAR_DAYS:
        yield f"day {day}", json.dumps(_fill(schema, spec, "2026-06-15T12:35:00Z", day, "x", 1)).encode()
    for text in BAD_STRINGS:
        yield f"string {text[:8]!r}", json.dumps(_fill(schema, spec, text, text, text, 1)).encode()
    for number in BAD_INTEGERS:
        yield f"integer {str(number)[:8]}", json.dumps(
            _fill(schema, spec, "2026-06-15T12:35:00Z", "2026-06-15", "x", number)).encode()


def requests_for(spec: dict[str, Any], path_values: dict[str, str], now: datetime,
                 sign: Callable[[str, int, bytes], str] | None = None) -> Iterator[Request]:
    """Every hostile request for every operation in `spec` (a dict of the OpenAPI document).
    `path_values` names a real value per path parameter, so requests get past the 404;
    `sign(id, timestamp, body)` signs webhook deliveries at the server's `now`, so
    bodies get past the signature."""
    for template, operations in spec["paths"].items():
        for method, op in operations.items():
            if not isinstance(op, dict):
                continue
            operation = Operation(method.upper(), template, _fill_path(template, path_values), op,
                                  int(now.timestamp()), sign, path_values)
            yield from _url_and_headers(operation)
            yield from _bodies_for(operation, spec)


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    path: str
    doc: dict[str, Any]
    now: int
    sign: Callable[[str, int, bytes], str] | None
    path_values: dict[str, str]

    @property
    def webhook(self) -> bool:
        return any(p.get("name") == "webhook-signature" for p in self.doc.get("parameters", []))

    def request(self, label: str, headers: dict[str, str] | None = None, data: bytes | None = None,
                content_type: str | None = None, query: str = "", path: str | None = None) -> Request:
        return Request(f"{self.method} {self.template}: {label}", self.method, path or self.path, headers or {},
                       data, content_type, query)

    def delivery(self, label: str, body: bytes, content_type: str) -> Request:
        """A body for the operation; signed when it is the webhook, so it is read past the signature."""
        headers = {}
        if self.webhook and self.sign is not None:
            webhook_id = "fuzz-" + hashlib.sha256(label.encode()).hexdigest()[:16]
            headers = {"webhook-id": webhook_id, "webhook-timestamp": str(self.now),
                       "webhook-signature": self.sign(webhook_id, self.now, body)}
        return self.request(label, headers, body, content_type)


def _bodies_for(op: Operation, spec: dict[str, Any]) -> Iterator[Request]:
    content = op.doc.get("requestBody", {}).get("content", {})
    if not content:
        return
    for label, body, content_type in RAW_BODIES:
        yield op.delivery(label, body, content_type)
    if "application/json" in content:
        for label, body in _bodies(content["application/json"]["schema"], spec):
            yield op.delivery(label, body, "application/json")
    if op.webhook:
        for value in BAD_HEADER_VALUES:
            for header in ("webhook-id", "webhook-timestamp", "webhook-signature"):
                headers = {"webhook-id": "fuzz", "webhook-timestamp": str(op.now), "webhook-signature": "v1,x",
                           header: value}
                yield op.request(f"{header} {value[:8]!r}", headers, b'{"type": "job.started"}', "application/json")


def _url_and_headers(op: Operation) -> Iterator[Request]:
    for bad in ("%00", "%ED%A0%80", "%C0%80", "9999-12-31", "%C2%B2"):
        if "{" in op.template:
            # The first path parameter is the bad one; the others are real.
            yield op.request(f"path {bad}", path=_fill_path(re.sub(r"\{[^}]+\}", bad, op.template, count=1),
                                                            op.path_values))
        for param in op.doc.get("parameters", []):
            if param.get("in") == "query":
                yield op.request(f"?{param['name']}={bad}", query=f"{param['name']}={bad}")
    for value in BAD_HEADER_VALUES:
        yield op.request(f"Idempotency-Key {value[:8]!r}", {"Idempotency-Key": value})
    yield op.request("NUL in a header", {"X-Fuzz": "a\x00b"})
