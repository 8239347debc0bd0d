"""Request IDs, JSON logs, Prometheus metrics, the status report and config check."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from techapi.checks import cheap, full
from techapi.logs import JsonFormatter, RedactingFilter
from techapi.reads.ops import status_report
from techapi.worker.runner import Worker
from tests import media
from tests.closing import ask_closure, make_ready


@pytest.fixture
def tech(auth, world, synced):
    auth.user("tech", "technician", technician_id=world.technician_ids[0])
    return auth.headers("tech")


METRICS_TOKEN = "scraper-token-0123456789"


@pytest.fixture
def scrape(client, deps):
    """GET /metrics as the configured scraper."""
    deps.settings = deps.settings.with_overrides(metrics_token=METRICS_TOKEN)

    def get() -> str:
        response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert response.status_code == 200
        return response.get_data(as_text=True)

    return get


def metric(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
        if not labels and line.startswith(f"{name} "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name}{{{wanted}}} not in /metrics")


def test_a_request_id_is_taken_from_the_client_or_made_up_and_returned(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    made = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    forged = client.get("/healthz", headers={"X-Request-ID": "<script>" * 30}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", forged)


def test_request_logs_are_json_with_request_user_and_job_ids(client, tech, caplog):
    job_id = client.get("/v1/jobs", headers=tech).get_json()["jobs"][0]["serviceJobId"]
    caplog.set_level(logging.INFO, logger="techapi.access")
    caplog.clear()
    client.get(f"/v1/jobs/{job_id}", headers={**tech, "X-Request-ID": "req-42"})
    record = next(r for r in caplog.records if r.name == "techapi.access")
    line = json.loads(JsonFormatter().format(record))
    assert line["route"] == "/v1/jobs/<string:serviceJobId>" and line["status"] == 200
    assert line["request_id"] == "req-42" and line["job_id"] == job_id and isinstance(line["user_id"], int)
    assert line["level"] == "INFO" and line["duration_ms"] >= 0


def test_the_formatter_adds_the_request_context(app):
    from flask import g

    from techapi.auth.models import User

    with app.test_request_context("/v1/jobs/J1"):
        g.request_id, g.job_id, g.user = "rid", "J1", User(id=7, username="x")
        record = logging.LogRecord("techapi", logging.INFO, __file__, 1, "hello %s", ("world",), None)
        line = json.loads(JsonFormatter().format(record))
    assert line == {**line, "message": "hello world", "request_id": "rid", "user_id": 7, "job_id": "J1"}
    assert "username" not in json.dumps(line)


def test_secrets_are_masked_in_any_log_line():
    f = RedactingFilter(["super-secret-value-123"])
    record = logging.LogRecord("x", logging.INFO, __file__, 1,
                               "token Atza|abcdef client_secret=super-secret-value-123 Bearer abc.def", (), None)
    f.filter(record)
    text = record.getMessage()
    assert "super-secret-value-123" not in text and "abcdef" not in text and "abc.def" not in text


def test_metrics_count_requests_spapi_calls_and_read_the_queue(app, client, tech, deps, scrape):
    before = scrape()
    calls_before = metric(before, "techapi_spapi_calls_total", operation="getServiceJobs", status="200")
    job_id = client.get("/v1/jobs", headers=tech).get_json()["jobs"][0]["serviceJobId"]
    client.post(f"/v1/jobs/{job_id}/documents", headers=tech, content_type="multipart/form-data",
                data={"kind": "PHOTO", "file": (io.BytesIO(media.jpeg()), "p.jpg")})
    from techapi.jobs.sync import sync_day

    sync_day(deps, deps.clock.now().date())
    text = scrape()
    assert metric(text, "techapi_http_request_duration_seconds_count", route="/v1/jobs", method="GET",
                  status="200") >= 1
    assert metric(text, "techapi_spapi_calls_total", operation="getServiceJobs", status="200") > calls_before
    assert metric(text, "techapi_queue_tasks", kind="upload_document", state="PENDING") == 1
    assert metric(text, "techapi_documents", status="RECEIVED") == 1
    assert metric(text, "techapi_queue_oldest_pending_age_seconds") >= 0
    Worker(app).drain(max_seconds=30)
    text = scrape()
    assert metric(text, "techapi_documents", status="UPLOADED") == 1
    assert metric(text, "techapi_queue_tasks", kind="upload_document", state="DONE") == 1


def test_throttles_and_retries_are_counted(app, client, deps, sandbox, scrape):
    from techapi.retry import RetryPolicy
    from techapi.spapi import plans
    from techapi.spapi.sandbox import Faults

    text = scrape()
    try:
        throttled_before = metric(text, "techapi_spapi_throttled_total", operation=plans.GET_SERVICE_JOB)
    except AssertionError:
        throttled_before = 0.0
    deps.spapi.retry = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02)
    sandbox.set_faults(Faults(script={plans.GET_SERVICE_JOB: [429, 503]}))
    deps.spapi.get_service_job(next(iter(sandbox.state.jobs)))
    text = scrape()
    assert metric(text, "techapi_spapi_throttled_total", operation=plans.GET_SERVICE_JOB) == throttled_before + 1
    assert metric(text, "techapi_spapi_retries_total", operation=plans.GET_SERVICE_JOB, reason="503") >= 1


def test_status_report_shows_the_queue_and_failed_closures(app, client, tech, auth, world, deps, sandbox):
    from techapi.spapi import plans
    from techapi.spapi.sandbox import Faults

    auth.user("boss", "supervisor", stores=(world.store_ids[0],))
    job_id = client.get("/v1/jobs", headers=tech).get_json()["jobs"][1]["serviceJobId"]
    make_ready(client, tech, job_id)
    ask_closure(client, tech, job_id)
    client.post(f"/v1/jobs/{job_id}/closure/approve", headers=auth.headers("boss"))
    sandbox.set_faults(Faults(script={plans.SET_FULFILLMENT_DATA: [400]}))
    Worker(app).drain(max_seconds=30)
    report = status_report(deps, stuck_minutes=30)
    assert re.search(r"close_job\s+FAILED\s+1", report)
    assert f"{job_id}  FAILED" in report and "SP-API refused" in report


def test_check_config_reports_each_problem(app, deps, tmp_path):
    assert all(c.ok for c in full(deps)), [c for c in full(deps) if not c.ok]
    assert all(c.ok for c in cheap(deps))
    from techapi.storage import LocalBlobStore

    blocked = tmp_path / "blocked"
    deps.store = LocalBlobStore(blocked)
    blocked.rmdir()
    blocked.write_text("a file where the store's folder should be")  # unwritable, even for root
    results = {c.name: c for c in full(deps)}
    assert not results["blob store"].ok and "not writable" in results["blob store"].message
    deps.settings = deps.settings.with_overrides(upload_allowed_hosts=("*.com",))
    broad = {c.name: c for c in full(deps)}["upload allow-list"]
    assert not broad.ok and "too broad" in broad.message
