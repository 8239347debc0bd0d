"""Sync meets closure: SP-API's word on a job wins over a closure still open here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from techapi import audit
from techapi.closures.models import Closure, ClosureState
from techapi.spapi.models import ServiceJob


def reconcile_with_upstream(session: Session, jobs: list[ServiceJob], now: datetime) -> None:
    """At sync: a job completed or cancelled on SP-API while its closure was open is
    shown as such (in the caller's transaction)."""
    by_id = {j.service_job_id: j for j in jobs if j.status in ("COMPLETED", "CANCELLED")}
    if not by_id:
        return
    open_states = (ClosureState.PENDING_APPROVAL, ClosureState.QUEUED, ClosureState.FAILED, ClosureState.REJECTED)
    for closure in session.scalars(select(Closure).where(Closure.service_job_id.in_(list(by_id)),
                                                         Closure.state.in_(open_states))):
        status = by_id[closure.service_job_id].status
        if closure.state == ClosureState.QUEUED:
            continue  # the worker is on it and reads SP-API's state itself
        closure.upstream_status = status
        closure.updated_at = now
        if status == "COMPLETED":
            closure.state, closure.completed_at = ClosureState.COMPLETED, now
            note = "completed on SP-API outside techapi"
        else:
            closure.state = ClosureState.FAILED
            closure.failure_reason = note = "cancelled on SP-API"
        audit.record(session, closure.service_job_id, "closure.upstream_changed", now, "sync", source="sync",
                     details={"upstreamStatus": status, "note": note})
