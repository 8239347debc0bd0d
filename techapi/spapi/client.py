"""The SP-API Services v1 client: with spapi/transport.py, the only code that
speaks SP-API HTTP.

Thin and typed: one method per operation, our own types out, typed errors
(carrying SP-API's errors[].code/message) for everything else. Each call takes
a token from its operation's bucket first; 429 and 5xx are retried with
exponential backoff and jitter, a bounded number of times; other 4xx never are
(spapi/transport.py).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from techapi.clock import iso_z
from techapi.spapi import plans
from techapi.spapi.appointments import AppointmentOperations
from techapi.spapi.errors import SpApiError
from techapi.spapi.resources import ResourceOperations
from techapi.spapi.types import (
    FulfillmentData,
    JobPage,
    ServiceJob,
    UploadDestination,
    parse_service_job,
)


@dataclass(frozen=True)
class ServiceJobsQuery:
    """getServiceJobs filters; exactly one of created_after / last_updated_after."""

    created_after: datetime | None = None
    last_updated_after: datetime | None = None
    created_before: datetime | None = None
    last_updated_before: datetime | None = None
    schedule_start: datetime | None = None
    schedule_end: datetime | None = None
    statuses: Sequence[str] = ()
    store_ids: Sequence[str] = ()
    page_size: int = plans.MAX_PAGE_SIZE

    def __post_init__(self) -> None:
        if (self.created_after is None) == (self.last_updated_after is None):
            raise ValueError("give exactly one of created_after and last_updated_after")
        if not 1 <= self.page_size <= plans.MAX_PAGE_SIZE:
            raise ValueError("page_size must be 1..20")
        unknown = set(self.statuses) - set(plans.JOB_STATUSES)
        if unknown:
            raise ValueError(f"unknown job status(es): {sorted(unknown)}")


def _csv(values: Sequence[str]) -> str:
    # The model declares these as array query parameters with Swagger 2's
    # default collectionFormat, csv: one parameter, comma-separated values.
    return ",".join(values)


def _path(value: str) -> str:
    return quote(value, safe="")


class SpApiClient(AppointmentOperations, ResourceOperations):
    """One method per operation, our own types in and out. The scheduling
    operations live in appointments.py and resources.py."""

    def get_service_jobs(self, query: ServiceJobsQuery, page_token: str | None = None) -> JobPage:
        params: dict[str, str] = {
            "marketplaceIds": _csv([self.marketplace_id]),
            "pageSize": str(query.page_size),
        }
        optional = {
            "createdAfter": query.created_after,
            "createdBefore": query.created_before,
            "lastUpdatedAfter": query.last_updated_after,
            "lastUpdatedBefore": query.last_updated_before,
            "scheduleStartDate": query.schedule_start,
            "scheduleEndDate": query.schedule_end,
        }
        params.update({k: iso_z(v) for k, v in optional.items() if v is not None})
        if query.statuses:
            params["serviceJobStatus"] = _csv(query.statuses)
        if query.store_ids:
            params["storeIds"] = _csv(query.store_ids)
        if page_token:
            params["pageToken"] = page_token
        body = self.call(plans.GET_SERVICE_JOBS, "GET", "/service/v1/serviceJobs", params=params)
        payload = body.get("payload") or {}
        return JobPage(
            jobs=[parse_service_job(j) for j in payload.get("jobs") or []],
            next_page_token=payload.get("nextPageToken") or None,
            total_result_size=payload.get("totalResultSize"),
        )

    def iter_service_jobs(self, query: ServiceJobsQuery, max_pages: int = 10_000) -> Iterator[ServiceJob]:
        """Every job matching `query`, following nextPageToken."""
        token: str | None = None
        for _ in range(max_pages):
            page = self.get_service_jobs(query, token)
            yield from page.jobs
            if not page.next_page_token or page.next_page_token == token:
                return
            token = page.next_page_token
        raise SpApiError(plans.GET_SERVICE_JOBS, None, message=f"more than {max_pages} pages")

    def get_service_job(self, service_job_id: str) -> ServiceJob:
        body = self.call(
            plans.GET_SERVICE_JOB, "GET", f"/service/v1/serviceJobs/{_path(service_job_id)}"
        )
        return parse_service_job(body.get("payload") or {})

    def create_upload_destination(
        self, content_type: str, content_length: int, content_md5: bytes
    ) -> UploadDestination:
        """`content_md5` is the raw 16-byte digest; it is sent base64-encoded."""
        if content_type not in plans.DOCUMENT_CONTENT_TYPES:
            raise ValueError(f"contentType must be one of {plans.DOCUMENT_CONTENT_TYPES}")
        if not 1 <= content_length <= plans.MAX_DOCUMENT_BYTES:
            raise ValueError(f"contentLength must be 1..{plans.MAX_DOCUMENT_BYTES}")
        if len(content_md5) != 16:
            raise ValueError("content_md5 must be a raw MD5 digest (16 bytes)")
        body = self.call(
            plans.CREATE_UPLOAD_DESTINATION,
            "POST",
            "/service/v1/documents",
            json={
                "contentType": content_type,
                "contentLength": content_length,
                "contentMD5": base64.b64encode(content_md5).decode(),
            },
        )
        payload = body.get("payload") or {}
        try:
            enc = payload["encryptionDetails"]
            return UploadDestination(
                upload_destination_id=payload["uploadDestinationId"],
                url=payload["url"],
                key=base64.b64decode(enc["key"]),
                iv=base64.b64decode(enc["initializationVector"]),
                headers={str(k): str(v) for k, v in (payload.get("headers") or {}).items()},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SpApiError(
                plans.CREATE_UPLOAD_DESTINATION, 200, message=f"malformed destination: {exc!r}"
            ) from None

    def set_appointment_fulfillment_data(
        self, service_job_id: str, appointment_id: str, data: FulfillmentData
    ) -> None:
        body: dict[str, Any] = {}
        if data.start is not None or data.end is not None:
            body["fulfillmentTime"] = {
                k: iso_z(v) for k, v in (("startTime", data.start), ("endTime", data.end)) if v
            }
        if data.resource_ids:
            body["appointmentResources"] = [{"resourceId": r} for r in data.resource_ids]
        if data.documents:
            body["fulfillmentDocuments"] = [
                {"uploadDestinationId": d.upload_destination_id, "contentSha256": d.content_sha256}
                for d in data.documents
            ]
        if not body:
            raise ValueError("no fulfillment data to set")
        self.call(
            plans.SET_FULFILLMENT_DATA,
            "PUT",
            f"/service/v1/serviceJobs/{_path(service_job_id)}/appointments/"
            f"{_path(appointment_id)}/fulfillment",
            json=body,
        )

    def complete_service_job(self, service_job_id: str) -> None:
        self.call(
            plans.COMPLETE_SERVICE_JOB,
            "PUT",
            f"/service/v1/serviceJobs/{_path(service_job_id)}/completions",
        )

    def cancel_service_job(self, service_job_id: str, reason_code: str) -> None:
        self.call(
            plans.CANCEL_SERVICE_JOB,
            "PUT",
            f"/service/v1/serviceJobs/{_path(service_job_id)}/cancellations",
            params={"cancellationReasonCode": reason_code},
        )
