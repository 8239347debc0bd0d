"""The hand-written baseline for the load benchmark: a technician's job list
(the JSON of GET /v1/jobs) in a bare Flask view: the same token check as
techapi.auth (SHA-256 of the bearer token, revoked, expired, account disabled)
and the jobs with their recorded times and document counts in ONE SQL query
through psycopg, a small pool per process, json.dumps. No ORM, no marshmallow,
no ETag. It serves technicians only (the benchmark's callers).

Settings: TECHAPI_DATABASE_URL (SQLAlchemy or libpq URL), TECHAPI_TIMEZONE (UTC).
"""

import hashlib
import json
import os
import queue
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import psycopg
from flask import Flask, Response, request

app = Flask(__name__)
CONNINFO = os.environ.get("TECHAPI_DATABASE_URL", "").replace("postgresql+psycopg://", "postgresql://", 1)
DEFAULT_TZ = os.environ.get("TECHAPI_TIMEZONE", "UTC")
MIN_PHOTOS = int(os.environ.get("TECHAPI_MIN_PHOTOS", "0"))
COUNTED = ["RECEIVED", "UPLOADING", "UPLOADED"]
ADDRESS_ORDER = ("addressLine1", "addressLine2", "addressLine3", "district", "city", "county")
_idle: queue.LifoQueue = queue.LifoQueue()  # this process's connections (imported after the fork)

# A row for the caller even without jobs (the LEFT JOIN), none for a bad token; the caller
# first (MATERIALIZED), whatever the statistics say.
QUERY = """
WITH caller AS MATERIALIZED (
  SELECT u.technician_id, coalesce(u.timezone, %(tz)s) AS tz
  FROM access_tokens t JOIN users u ON u.id = t.user_id
  WHERE t.token_hash = %(hash)s AND t.revoked_at IS NULL AND t.expires_at > now()
    AND u.active AND u.role = 'technician')
SELECT c.tz, j.service_job_id, j.status, j.appointment_id, j.appointment_status, j.appointment_start,
       j.duration_minutes, j.customer_name, j.customer_phone, j.address, j.scope,
       EXISTS (SELECT 1 FROM time_records r WHERE r.service_job_id = j.service_job_id AND r.kind = 'start'),
       EXISTS (SELECT 1 FROM time_records r WHERE r.service_job_id = j.service_job_id AND r.kind = 'finish'),
       (SELECT count(*) FILTER (WHERE d.kind = 'POA') FROM documents d
         WHERE d.service_job_id = j.service_job_id AND d.status = ANY(%(counted)s)),
       (SELECT count(*) FILTER (WHERE d.kind = 'PHOTO') FROM documents d
         WHERE d.service_job_id = j.service_job_id AND d.status = ANY(%(counted)s))
FROM caller c LEFT JOIN LATERAL (
  SELECT j.* FROM job_technicians jt JOIN jobs j ON j.service_job_id = jt.service_job_id
  WHERE jt.technician_id = c.technician_id
    AND j.appointment_start >= (%(day)s::date)::timestamp AT TIME ZONE c.tz
    AND j.appointment_start < (%(day)s::date + 1)::timestamp AT TIME ZONE c.tz) j ON true
ORDER BY j.appointment_start, j.service_job_id
"""


@contextmanager
def connection() -> Iterator[psycopg.Connection]:
    try:
        conn = _idle.get_nowait()
    except queue.Empty:
        conn = psycopg.connect(CONNINFO, autocommit=True)  # one SELECT: no BEGIN/COMMIT
        conn.execute("SET TIME ZONE 'UTC'")
    try:
        yield conn
    finally:
        if not conn.closed:
            _idle.put(conn)


def error(status: int, message: str) -> Response:
    return Response(json.dumps({"code": status, "status": "error", "message": message}), status,
                    mimetype="application/json")


def address(raw: dict | None) -> dict | None:
    if not raw:
        return None
    parts = [str(raw[k]).strip() for k in ADDRESS_ORDER if raw.get(k)]
    region = " ".join(str(raw[k]).strip() for k in ("stateOrRegion", "postalCode") if raw.get(k))
    parts += [region] if region else []
    if raw.get("countryCode") and str(raw["countryCode"]).upper() != "US":
        parts.append(str(raw["countryCode"]))
    return {**{k: str(v) for k, v in raw.items() if v is not None}, "oneLine": ", ".join(p for p in parts if p)}


def still_needed(status, appointment_status, start, finish, poa, photos) -> list[str]:
    if status != "NOT_SERVICED":
        return []
    missing = [] if appointment_status == "ACTIVE" else ["ACTIVE_APPOINTMENT"]
    missing += [] if start else ["START_TIME"]
    missing += [] if finish else ["END_TIME"]
    missing += [] if poa >= 1 else ["POA_DOCUMENT"]
    return missing + ([] if photos >= MIN_PHOTOS else ["PHOTOS"])


def summary(row: tuple) -> dict:
    _, job_id, status, appt_id, appt_status, start, minutes, name, phone, addr, scope, *evidence = row
    end = start + timedelta(minutes=minutes) if start is not None and minutes is not None else None
    scope = scope or {}
    return {
        "serviceJobId": job_id, "status": status,
        "appointment": None if appt_id is None and start is None else {
            "appointmentId": appt_id, "status": appt_status, "start": start and start.isoformat(),
            "end": end and end.isoformat(), "durationInMinutes": minutes},
        "customer": {"name": name, "phone": phone},
        "address": address(addr),
        "scope": {"title": scope.get("title"), "asin": scope.get("asin"), "quantity": scope.get("quantity"),
                  "requiredSkills": list(scope.get("requiredSkills") or [])},
        "stillNeeded": still_needed(status, appt_status, *evidence),
    }


@app.get("/v1/jobs")
def jobs() -> Response:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return error(401, "Missing bearer token")
    try:
        day = date.fromisoformat(request.args["date"])
    except (KeyError, ValueError):
        return error(422, "date: YYYY-MM-DD required")
    digest = hashlib.sha256(token.strip().encode()).hexdigest()
    with connection() as conn:
        rows = conn.execute(QUERY, {"hash": digest, "tz": DEFAULT_TZ, "day": day, "counted": COUNTED}).fetchall()
    if not rows:
        return error(401, "Invalid, revoked or expired bearer token")
    body = {"date": day.isoformat(), "timezone": rows[0][0],
            "jobs": [summary(r) for r in rows if r[1] is not None]}
    return Response(json.dumps(body), mimetype="application/json")
