"""getServiceJobs in the sandbox: the model's filters, csv query lists, page tokens."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import datetime
from typing import Any

from werkzeug.datastructures import MultiDict

from techapi.spapi.plans import JOB_STATUSES, MAX_PAGE_SIZE
from techapi.spapi.sandbox import rules
from techapi.spapi.sandbox.state import SandboxJob, SandboxState

LIST_LIMITS = {"serviceOrderIds": 20, "productOrderIds": 20, "trackingIds": 20,
               "asins": 20, "requiredSkills": 20, "storeIds": 50, "marketplaceIds": 1}
# The model's item patterns of the list filters that have one.
LIST_PATTERNS = {"serviceOrderIds": re.compile(r"^[0-9\-]+$"), "productOrderIds": re.compile(r"^[0-9\-]+$"),
                 "trackingIds": re.compile(r"^[A-Za-z0-9\-]+$")}
DATE_PARAMS = ("createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore",
               "scheduleStartDate", "scheduleEndDate")


class _Invalid(Exception):
    def __init__(self, *errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = list(errors)


def _csv(args: MultiDict, name: str) -> list[str]:
    # Swagger 2's default collectionFormat is csv; repeated keys are accepted too.
    values = [v for raw in args.getlist(name) for v in raw.split(",") if v]
    if name in LIST_LIMITS and len(values) > LIST_LIMITS[name]:
        raise _Invalid(rules.missing([name]))
    if name in LIST_PATTERNS and not all(LIST_PATTERNS[name].match(v) for v in values):
        raise _Invalid(rules.missing([name]))
    return values


def _dates(args: MultiDict) -> dict[str, datetime]:
    out = {}
    for name in DATE_PARAMS:
        raw = args.get(name)
        if raw is None:
            continue
        value = rules.parse_time(raw)
        if value is None:
            raise _Invalid(rules.err("Invalid Input", details=f"{name} is not an ISO 8601 date-time"))
        out[name] = value
    return out


def _fingerprint(args: MultiDict) -> str:
    items = sorted((k, v) for k, v in args.items(multi=True) if k != "pageToken")
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()[:16]


def _encode_token(offset: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "q": fingerprint}).encode()).decode()


def _decode_token(token: str, fingerprint: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = int(data["o"])
    except (ValueError, KeyError, TypeError):
        raise _Invalid(rules.err("Invalid Input", details="pageToken is invalid")) from None
    if data.get("q") != fingerprint or offset < 0:
        raise _Invalid(rules.err("Invalid Input", details="pageToken does not belong to this query"))
    return offset


def _matches(job: SandboxJob, f: dict[str, Any]) -> bool:
    p = job.payload
    created = job.created or rules.parse_time(p["createTime"])
    if p.get("marketplaceId") not in f["marketplaceIds"]:
        return False
    if "createdAfter" in f and created < f["createdAfter"]:
        return False
    if "createdBefore" in f and created > f["createdBefore"]:
        return False
    if "lastUpdatedAfter" in f and job.updated_at < f["lastUpdatedAfter"]:
        return False
    if "lastUpdatedBefore" in f and job.updated_at > f["lastUpdatedBefore"]:
        return False
    if "scheduleStartDate" in f or "scheduleEndDate" in f:
        lo, hi = f.get("scheduleStartDate"), f.get("scheduleEndDate")
        if not any((lo is None or s >= lo) and (hi is None or s <= hi) for s in job.appointment_starts()):
            return False
    checks = (
        ("serviceJobStatus", p.get("serviceJobStatus")),
        ("storeIds", p.get("storeId")),
        ("serviceOrderIds", p.get("serviceOrderId")),
        ("asins", p.get("scopeOfWork", {}).get("asin")),
    )
    for name, value in checks:
        if f[name] and value not in f[name]:
            return False
    for name in ("requiredSkills", "productOrderIds", "trackingIds"):
        held = p.get("scopeOfWork", {}).get(name, []) if name == "requiredSkills" else p.get(name, [])
        if f[name] and not set(held) & set(f[name]):
            return False
    return True


def _parse(args: MultiDict) -> dict[str, Any]:
    f: dict[str, Any] = {name: _csv(args, name) for name in
                         ("marketplaceIds", "serviceJobStatus", "storeIds", "serviceOrderIds",
                          "asins", "requiredSkills", "productOrderIds", "trackingIds")}
    if not f["marketplaceIds"]:
        raise _Invalid(rules.missing(["marketplaceIds"]))
    bad_status = [s for s in f["serviceJobStatus"] if s not in JOB_STATUSES]
    if bad_status:
        raise _Invalid(rules.missing(["serviceJobStatus"]))
    f.update(_dates(args))
    if "createdAfter" in f and "lastUpdatedAfter" in f:
        raise _Invalid(rules.err("Invalid Input", details="Specifying both createdAfter and "
                                 "lastUpdatedAfter is not allowed"))
    if "createdAfter" not in f and "lastUpdatedAfter" not in f:
        raise _Invalid(rules.missing(["createdAfter", "lastUpdatedAfter"]))
    if "scheduleStartDate" in f and "scheduleEndDate" in f and f["scheduleEndDate"] < f["scheduleStartDate"]:
        raise _Invalid(rules.err("Invalid Input", details="Schedule end date should not be earlier "
                                 "than schedule start date"))
    try:
        f["pageSize"] = int(args.get("pageSize", MAX_PAGE_SIZE))
    except ValueError:
        raise _Invalid(rules.missing(["pageSize"])) from None
    if not 1 <= f["pageSize"] <= MAX_PAGE_SIZE:
        raise _Invalid(rules.missing(["pageSize"]))
    f["sortField"] = args.get("sortField", "JOB_DATE")
    f["sortOrder"] = args.get("sortOrder", "ASC")
    if f["sortField"] not in ("JOB_DATE", "JOB_STATUS") or f["sortOrder"] not in ("ASC", "DESC"):
        raise _Invalid(rules.missing(["sortField" if f["sortField"] not in ("JOB_DATE", "JOB_STATUS")
                                      else "sortOrder"]))
    return f


def list_jobs(state: SandboxState, args: MultiDict) -> tuple[int, Any]:
    try:
        f = _parse(args)
        fingerprint = _fingerprint(args)
        offset = _decode_token(args["pageToken"], fingerprint) if args.get("pageToken") else 0
    except _Invalid as exc:
        return 400, {"errors": exc.errors}
    jobs = [j for j in state.jobs.values() if _matches(j, f)]
    if f["sortField"] == "JOB_STATUS":
        jobs.sort(key=lambda j: (j.status, j.payload["createTime"], j.job_id))
    else:
        jobs.sort(key=lambda j: (j.payload["createTime"], j.job_id))
    if f["sortOrder"] == "DESC":
        jobs.reverse()
    page = jobs[offset:offset + f["pageSize"]]
    payload: dict[str, Any] = {
        "totalResultSize": len(jobs),
        "jobs": [json.loads(json.dumps(j.payload)) for j in page],
    }
    if offset + f["pageSize"] < len(jobs):
        payload["nextPageToken"] = _encode_token(offset + f["pageSize"], fingerprint)
    if offset > 0:
        payload["previousPageToken"] = _encode_token(max(0, offset - f["pageSize"]), fingerprint)
    return 200, {"payload": payload}
