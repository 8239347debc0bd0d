"""Whether a job is open for work, and what it still needs before it can be closed:
pure decisions, no I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from techapi.spapi.types import AppointmentStatus, JobStatus


class Needed(enum.StrEnum):
    ACTIVE_APPOINTMENT = "ACTIVE_APPOINTMENT"
    START_TIME = "START_TIME"
    END_TIME = "END_TIME"
    POA_DOCUMENT = "POA_DOCUMENT"
    PHOTOS = "PHOTOS"


@dataclass(frozen=True)
class Evidence:
    has_start: bool = False
    has_end: bool = False
    poa_documents: int = 0
    photos: int = 0


def closable(job_status: str) -> bool:
    """Only a job SP-API still expects service on can be closed or cancelled."""
    return job_status == JobStatus.NOT_SERVICED


def open_for_work(job_status: str, appointment_status: str | None) -> bool:
    """Times and documents can be recorded only while the job is being serviced."""
    return closable(job_status) and appointment_status == AppointmentStatus.ACTIVE


def still_needed(job_status: str, appointment_status: str | None, evidence: Evidence,
                 min_photos: int = 0) -> list[str]:
    """Codes of what is missing; empty when the job can be closed or is past closing."""
    if not closable(job_status):
        return []
    missing = []
    if appointment_status != AppointmentStatus.ACTIVE:
        missing.append(Needed.ACTIVE_APPOINTMENT)
    if not evidence.has_start:
        missing.append(Needed.START_TIME)
    if not evidence.has_end:
        missing.append(Needed.END_TIME)
    if evidence.poa_documents < 1:
        missing.append(Needed.POA_DOCUMENT)
    if evidence.photos < min_photos:
        missing.append(Needed.PHOTOS)
    return [m.value for m in missing]
