"""Turn stored jobs into the phone's shapes (pure functions)."""

from __future__ import annotations

from typing import Any

from techapi.jobs import readiness
from techapi.jobs.models import Job
from techapi.spapi.models import parse_appointment

ADDRESS_ORDER = ("addressLine1", "addressLine2", "addressLine3", "district", "city", "county")


def one_line(address: dict[str, Any]) -> str:
    """'12 Pine St, Apt 4, Seattle, WA 98101': what a phone shows and a maps app takes."""
    parts = [str(address[k]).strip() for k in ADDRESS_ORDER if address.get(k)]
    region = " ".join(str(address[k]).strip() for k in ("stateOrRegion", "postalCode") if address.get(k))
    if region:
        parts.append(region)
    if address.get("countryCode") and address["countryCode"] != "US":
        parts.append(str(address["countryCode"]))
    return ", ".join(p for p in parts if p)


def _address(job: Job) -> dict[str, Any] | None:
    if not job.address:
        return None
    return {**{k: str(v) for k, v in job.address.items() if v is not None}, "oneLine": one_line(job.address)}


def summary(job: Job, evidence: readiness.Evidence | None = None, min_photos: int = 0) -> dict[str, Any]:
    return {
        "serviceJobId": job.service_job_id,
        "status": job.status,
        "appointment": None if job.appointment_id is None and job.appointment_start is None else {
            "appointmentId": job.appointment_id,
            "status": job.appointment_status,
            "start": job.appointment_start,
            "end": job.appointment_end,
            "durationInMinutes": job.duration_minutes,
        },
        "customer": {"name": job.customer_name, "phone": job.customer_phone},
        "address": _address(job),
        "scope": {
            "title": (job.scope or {}).get("title"),
            "asin": (job.scope or {}).get("asin"),
            "quantity": (job.scope or {}).get("quantity"),
            "requiredSkills": list((job.scope or {}).get("requiredSkills") or []),
        },
        "stillNeeded": readiness.still_needed(
            job.status, job.appointment_status, evidence or readiness.Evidence(), min_photos
        ),
    }


def detail(job: Job, evidence: readiness.Evidence | None = None, min_photos: int = 0,
           closure: dict[str, Any] | None = None) -> dict[str, Any]:
    raw = job.payload or {}
    appointments = []
    for item in raw.get("appointments") or []:
        appt = parse_appointment(item)
        appointments.append({
            "appointmentId": appt.appointment_id, "status": appt.status, "start": appt.start,
            "end": appt.end, "durationInMinutes": appt.duration_minutes,
        })
    return {
        **summary(job, evidence, min_photos),
        "serviceOrderId": job.service_order_id,
        "storeId": job.store_id,
        "marketplaceId": job.marketplace_id,
        "createTime": raw.get("createTime"),
        "technicians": [{"technicianId": t.technician_id, "name": t.name} for t in job.technicians],
        "appointments": appointments,
        "associatedItems": [
            {k: i[k] for k in ("asin", "title", "quantity", "itemStatus", "brandName") if k in i}
            for i in raw.get("associatedItems") or [] if isinstance(i, dict)
        ],
        "preferredAppointmentTimes": [
            p for p in raw.get("preferredAppointmentTimes") or [] if isinstance(p, dict)
        ],
        "syncedAt": job.synced_at,
        "closure": closure,
    }
