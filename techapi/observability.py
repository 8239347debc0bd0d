"""Request IDs, the access log and this process's Prometheus counters.

Every request gets an ID (taken from X-Request-ID or made up, and returned) that
the log lines carry. The /metrics endpoint, which adds gauges read from the
database, is on the read side (reads/ops.py).
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid

from flask import Flask, Response, g, request
from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

from techapi.logs import user_id_of

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


def _before() -> None:
    g.request_id = request_id(request.headers.get("X-Request-ID", ""))
    g.started = time.perf_counter()
    if request.view_args and "serviceJobId" in request.view_args:
        g.job_id = request.view_args["serviceJobId"]


def request_id(given: str) -> str:
    """The request's ID: the client's X-Request-ID when it is a sane one, else a new one."""
    return given if REQUEST_ID.match(given) else uuid.uuid4().hex


def record(method: str, route: str, status: int, started: float, request_id: str | None, user_id: object,
           job_id: str | None = None) -> None:
    """Count a request in the latency histogram and write its access-log line."""
    elapsed = time.perf_counter() - started
    HTTP_LATENCY.labels(route, method, str(status)).observe(elapsed)
    if route not in ("/healthz", "/readyz", "/metrics") and log.isEnabledFor(logging.INFO):
        log.info("%s %s %s", method, route, status,
                 extra={"method": method, "route": route, "status": status,
                        "duration_ms": round(elapsed * 1000, 1), "request_id": request_id,
                        "user_id": user_id, "job_id": job_id})


def _after(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"
    user = g.get("user")
    record(request.method, route, response.status_code, g.get("started", time.perf_counter()),
           g.get("request_id"), user_id_of(user) if user is not None else None, g.get("job_id"))
    return response


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return DEFAULT_REGISTRY


def process_metrics() -> bytes:
    """This process's counters, or with gunicorn every web process's (multiprocess mode)."""
    return generate_latest(_registry())


def init_app(app: Flask) -> None:
    app.before_request(_before)
    app.after_request(_after)
