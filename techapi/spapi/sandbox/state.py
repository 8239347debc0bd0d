"""The sandbox's memory: jobs, upload destinations, LWA tokens, call statistics."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from techapi.clock import parse_iso


@dataclass
class SandboxJob:
    """A service job as SP-API holds it, plus what SP-API keeps but does not return."""

    payload: dict[str, Any]  # shaped like the model's ServiceJob
    updated_at: datetime
    created: datetime | None = None  # createTime, parsed once for listing
    fulfillment: dict[str, Any] = field(default_factory=dict)
    completions: int = 0
    cancellations: int = 0
    cancellation_reason: str | None = None

    @property
    def job_id(self) -> str:
        return self.payload["serviceJobId"]

    @property
    def status(self) -> str:
        return self.payload["serviceJobStatus"]

    def appointment(self, appointment_id: str) -> dict[str, Any] | None:
        for appt in self.payload.get("appointments", []):
            if appt.get("appointmentId") == appointment_id:
                return appt
        return None

    def appointment_starts(self) -> list[datetime]:
        return [
            parse_iso(a["appointmentTime"]["startTime"])
            for a in self.payload.get("appointments", [])
            if a.get("appointmentTime", {}).get("startTime")
        ]

    def set_status(self, status: str, appointment_status: str, now: datetime) -> None:
        self.payload["serviceJobStatus"] = status
        for appt in self.payload.get("appointments", []):
            if appt.get("appointmentStatus") == "ACTIVE":
                appt["appointmentStatus"] = appointment_status
        self.updated_at = now


@dataclass
class Destination:
    upload_destination_id: str
    upload_token: str  # the path segment of the presigned URL
    content_type: str
    content_length: int
    content_md5: str | None
    key: bytes
    iv: bytes
    created_at: datetime
    url_expires_at: datetime
    data: bytes | None = None
    puts: int = 0


class SandboxState:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.jobs: dict[str, SandboxJob] = {}
        self.technicians: dict[str, str] = {}  # technicianId -> name
        self.stores: dict[str, str] = {}  # storeId -> name
        self.seeded_days: set[date] = set()  # the demo world's days (seed.seed_day)
        self.calendars: dict[str, Any] = {}  # storeId -> schedule and reservations (capacity.StoreCalendar)
        self.destinations: dict[str, Destination] = {}
        self.destinations_by_token: dict[str, Destination] = {}
        self.access_tokens: dict[str, datetime] = {}
        self.token_grants = 0
        self.calls: Counter[tuple[str, int]] = Counter()

    def add_job(self, payload: dict[str, Any], updated_at: datetime | None = None) -> SandboxJob:
        created = parse_iso(payload["createTime"])
        job = SandboxJob(payload=payload, updated_at=updated_at or created, created=created)
        with self.lock:
            self.jobs[job.job_id] = job
            for appt in payload.get("appointments", []):
                for tech in appt.get("assignedTechnicians", []):
                    self.technicians.setdefault(tech["technicianId"], tech.get("name", ""))
        return job

    def add_destination(self, dest: Destination) -> None:
        with self.lock:
            self.destinations[dest.upload_destination_id] = dest
            self.destinations_by_token[dest.upload_token] = dest

    def count(self, operation: str, status: int) -> None:
        with self.lock:
            self.calls[(operation, status)] += 1

    def calls_of(self, operation: str, status: int | None = None) -> int:
        with self.lock:
            return sum(
                n for (op, st), n in self.calls.items() if op == operation and status in (None, st)
            )

    def throttled(self) -> int:
        with self.lock:
            return sum(n for (_op, st), n in self.calls.items() if st == 429)

    def expire_tokens(self, now: datetime) -> None:
        with self.lock:
            for token, expiry in list(self.access_tokens.items()):
                if expiry <= now - timedelta(hours=1):
                    del self.access_tokens[token]
