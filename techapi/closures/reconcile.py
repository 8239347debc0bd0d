"""Sync meets closure: SP-API's word on a job wins over a closure still open here
(a sync hook, run in the sync's transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from techapi.audit.trail import SYNC
from techapi.closures.lifecycle import move_closure
from techapi.closures.models import Closure, ClosureState
from techapi.spapi.types import JobStatus, ServiceJob

# A queued closure is left alone: the worker is on it and reads SP-API's state itself.
RECONCILED = (ClosureState.PENDING_APPROVAL, ClosureState.FAILED, ClosureState.REJECTED)


def reconcile_with_upstream(session: Session, jobs: Sequence[ServiceJob], now: datetime) -> None:
    """A job completed or cancelled on SP-API while its closure was open is shown as such."""
    by_id = {j.service_job_id: j for j in jobs if j.status in (JobStatus.COMPLETED, JobStatus.CANCELLED)}
    if not by_id:
        return
    for closure in session.scalars(select(Closure).where(Closure.service_job_id.in_(list(by_id)),
                                                         Closure.state.in_(RECONCILED))):
        status = by_id[closure.service_job_id].status
        closure.upstream_status = status
        if status == JobStatus.COMPLETED:
            new, reason, note = ClosureState.COMPLETED, None, "completed on SP-API outside techapi"
        else:
            new, reason, note = ClosureState.FAILED, "cancelled on SP-API", "cancelled on SP-API"
        move_closure(session, closure, new, now, SYNC, "closure.upstream_changed", reason=reason,
                     details={"upstreamStatus": status, "note": note})
