"""Request IDs, structured JSON logs and Prometheus metrics.

Logs carry the request ID (taken from X-Request-ID or made up, and returned), the
user ID and the job ID where known, and never a secret or personal data beyond
IDs. /metrics shows this process's counters plus gauges read from the database
at scrape time (queue depth and age, documents and closures by state), so any
web process gives the same operational picture.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from datetime import UTC, datetime

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from sqlalchemy import func, select

log = logging.getLogger("techapi.access")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")

HTTP_LATENCY = Histogram("techapi_http_request_duration_seconds", "HTTP request latency",
                         ["route", "method", "status"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
SPAPI_CALLS = Counter("techapi_spapi_calls_total", "SP-API calls by operation and HTTP status",
                      ["operation", "status"])
SPAPI_THROTTLED = Counter("techapi_spapi_throttled_total", "SP-API answers 429 by operation", ["operation"])
SPAPI_RETRIES = Counter("techapi_spapi_retries_total", "SP-API calls retried, by operation and reason",
                        ["operation", "reason"])
SPAPI_WAIT = Counter("techapi_spapi_rate_limit_wait_seconds_total",
                     "Seconds spent waiting for a usage-plan token", ["operation"])


class SpApiMetrics:
    """The SP-API client's observer: counts calls, throttles, retries, waits."""

    def call(self, operation: str, status: int | None) -> None:
        SPAPI_CALLS.labels(operation, str(status) if status is not None else "network_error").inc()
        if status == 429:
            SPAPI_THROTTLED.labels(operation).inc()

    def retry(self, operation: str, reason: str) -> None:
        SPAPI_RETRIES.labels(operation, reason).inc()

    def waited(self, operation: str, seconds: float) -> None:
        if seconds > 0:
            SPAPI_WAIT.labels(operation).inc(seconds)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request's context when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        try:
            if g and "request_id" in g:
                entry["request_id"] = g.request_id
                if "user" in g:
                    entry["user_id"] = g.user.id
                if g.get("job_id"):
                    entry["job_id"] = g.job_id
        except RuntimeError:  # outside a request
            pass
        for key in ("request_id", "user_id", "job_id", "task", "method", "route", "status", "duration_ms"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str)


def _before() -> None:
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
    g.started = time.perf_counter()
    if request.view_args and "serviceJobId" in request.view_args:
        g.job_id = request.view_args["serviceJobId"]


def _after(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"
    elapsed = time.perf_counter() - g.get("started", time.perf_counter())
    HTTP_LATENCY.labels(route, request.method, str(response.status_code)).observe(elapsed)
    if route not in ("/healthz", "/readyz", "/metrics"):
        user = g.get("user")
        log.info("%s %s %s", request.method, route, response.status_code,
                 extra={"method": request.method, "route": route, "status": response.status_code,
                        "duration_ms": round(elapsed * 1000, 1), "request_id": g.get("request_id"),
                        "user_id": user.id if user is not None else None, "job_id": g.get("job_id")})
    return response


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return DEFAULT_REGISTRY


def database_gauges(db, now: datetime) -> bytes:
    """Queue, documents and closures, read from the database at scrape time."""
    from techapi.closures.models import Closure
    from techapi.evidence.models import Document
    from techapi.worker.queue import Task, TaskState

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
        first = session.scalar(select(func.min(Task.created_at))
                               .where(Task.state.in_([TaskState.PENDING, TaskState.RUNNING])))
        oldest.set((now - first).total_seconds() if first else 0)
        for status, count in session.execute(select(Document.status, func.count()).group_by(Document.status)):
            documents.labels(status).set(count)
        for state, count in session.execute(select(Closure.state, func.count()).group_by(Closure.state)):
            closures.labels(state).set(count)
    return generate_latest(registry)


metrics_blp = Blueprint("metrics", __name__)


@metrics_blp.get("/metrics")
def metrics() -> Response:
    from techapi.context import deps

    d = deps()
    body = generate_latest(_registry()) + database_gauges(d.db, d.clock.now())
    return Response(body, content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    app.before_request(_before)
    app.after_request(_after)
    app.register_blueprint(metrics_blp)
