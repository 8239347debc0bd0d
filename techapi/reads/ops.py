"""What operators see: /metrics (this process's counters plus gauges read from
the database at scrape time, so any web process gives the same picture) and
`techapi status` (the queue and the closures that need a person).

/metrics is not part of the public API: it answers 404 unless TECHAPI_METRICS_TOKEN
is set, and then only to a scraper that sends it as a bearer token.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from flask import Blueprint, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from sqlalchemy import func, or_, select

from techapi.closures.models import Closure, ClosureState
from techapi.context import Deps, deps
from techapi.db import Database
from techapi.errors import NotFoundError, UnauthorizedError
from techapi.evidence.models import Document
from techapi.observability import process_metrics
from techapi.queue.models import ACTIVE, Task, TaskState

metrics_blp = Blueprint("metrics", __name__)


def database_gauges(db: Database, now: datetime) -> bytes:
    """Queue, documents and closures, read from the database at scrape time."""
    registry = CollectorRegistry()
    depth = Gauge("techapi_queue_tasks", "Tasks in the queue by kind and state", ["kind", "state"],
                  registry=registry)
    oldest = Gauge("techapi_queue_oldest_pending_age_seconds", "Age of the oldest pending or running task",
                   registry=registry)
    documents = Gauge("techapi_documents", "Documents by upload status", ["status"], registry=registry)
    closures = Gauge("techapi_closures", "Closures by state", ["state"], registry=registry)
    with db.session() as session:
        for kind, state, count in session.execute(
                select(Task.kind, Task.state, func.count()).group_by(Task.kind, Task.state)):
            depth.labels(kind, state).set(count)
        first = session.scalar(select(func.min(Task.created_at)).where(Task.state.in_(ACTIVE)))
        oldest.set((now - first).total_seconds() if first else 0)
        for status, count in session.execute(select(Document.status, func.count()).group_by(Document.status)):
            documents.labels(status).set(count)
        for state, count in session.execute(select(Closure.state, func.count()).group_by(Closure.state)):
            closures.labels(state).set(count)
    return generate_latest(registry)


def require_metrics_token(expected: str) -> None:
    """404 when no token is configured (the endpoint does not exist for the public),
    401 unless the request carries it as `Authorization: Bearer <token>`."""
    if not expected:
        raise NotFoundError("The requested URL was not found on the server")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode("utf-8", "replace"),
                                                               expected.encode()):
        raise UnauthorizedError("/metrics needs the metrics token (TECHAPI_METRICS_TOKEN) as a bearer token")


@metrics_blp.get("/metrics")
def metrics() -> Response:
    d = deps()
    require_metrics_token(d.settings.metrics_token.reveal())
    return Response(process_metrics() + database_gauges(d.db, d.clock.now()), content_type=CONTENT_TYPE_LATEST)


def status_report(deps: Deps, stuck_minutes: int) -> str:
    now = deps.clock.now()
    lines = ["Queue (kind, state, count, oldest):"]
    with deps.db.session() as session:
        rows = session.execute(select(Task.kind, Task.state, func.count(), func.min(Task.created_at))
                               .group_by(Task.kind, Task.state).order_by(Task.kind, Task.state)).all()
        for kind, state, count, oldest in rows:
            age = f"{(now - oldest).total_seconds() / 60:.0f} min" if oldest else "-"
            lines.append(f"  {kind:<16} {state:<8} {count:>6}  {age}")
        if not rows:
            lines.append("  (empty)")
        expired = session.scalar(select(func.count()).select_from(Task).where(
            Task.state == TaskState.RUNNING, Task.leased_until < now))
        lines.append(f"Running tasks with expired leases (a worker died; they will be taken over): {expired}")
        stuck = session.execute(select(Closure).where(or_(
            Closure.state == ClosureState.FAILED,
            (Closure.state == ClosureState.QUEUED) & (Closure.updated_at < now - timedelta(minutes=stuck_minutes)),
        )).order_by(Closure.updated_at)).scalars().all()
        lines.append(f"Closures needing attention ({len(stuck)}):")
        for closure in stuck:
            lines.append(f"  {closure.service_job_id}  {closure.state:<7} since {closure.updated_at.isoformat()}"
                         f"  {closure.failure_reason or ''}".rstrip())
        total = session.scalar(select(func.count()).select_from(Task).where(Task.state == TaskState.FAILED))
        failed = session.execute(select(Task.kind, Task.ref, Task.attempts, Task.updated_at, Task.last_error).where(
            Task.state == TaskState.FAILED).order_by(Task.updated_at.desc(), Task.id.desc()).limit(20)).all()
        lines.append(f"Tasks failed for good: {total} ({len(failed)} most recent shown; each needs a person):")
        for kind, ref, attempts, at, error in failed:
            lines.append(f"  {kind} {ref}: {(error or '')[:300]}  [attempts {attempts}, failed {at.isoformat()}]")
    return "\n".join(lines)
