"""What a job still needs before it can be closed: a pure decision, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

START_TIME = "START_TIME"
END_TIME = "END_TIME"
POA_DOCUMENT = "POA_DOCUMENT"
PHOTOS = "PHOTOS"
ACTIVE_APPOINTMENT = "ACTIVE_APPOINTMENT"

# Only a job SP-API still expects service on can be closed.
CLOSABLE_STATUS = "NOT_SERVICED"


@dataclass(frozen=True)
class Evidence:
    has_start: bool = False
    has_end: bool = False
    poa_documents: int = 0
    photos: int = 0


def still_needed(job_status: str, appointment_status: str | None, evidence: Evidence,
                 min_photos: int = 0) -> list[str]:
    """Codes of what is missing; empty when the job can be closed or is past closing."""
    if job_status != CLOSABLE_STATUS:
        return []
    missing = []
    if appointment_status != "ACTIVE":
        missing.append(ACTIVE_APPOINTMENT)
    if not evidence.has_start:
        missing.append(START_TIME)
    if not evidence.has_end:
        missing.append(END_TIME)
    if evidence.poa_documents < 1:
        missing.append(POA_DOCUMENT)
    if evidence.photos < min_photos:
        missing.append(PHOTOS)
    return missing
