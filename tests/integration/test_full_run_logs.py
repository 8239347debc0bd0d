"""A full run in real processes against SP-API over HTTP: every log line is JSON,
and the LWA secrets from the environment appear in none of them."""

from __future__ import annotations

import io
import json
import os

import httpx
import pytest

from techapi.spapi.sandbox import SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN
from tests import media
from tests.conftest import PASSWORD
from tests.fullrun import FullRun
from tests.integration.test_closure_pipeline import environment


@pytest.mark.slow
def test_a_full_run_logs_json_and_never_a_secret(tmp_path, clean_database, http_sandbox, storage_env):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TECHAPI_")},
           **environment(tmp_path, clean_database, http_sandbox.url, **storage_env), "TECHAPI_LOG_LEVEL": "DEBUG"}
    run = FullRun(tmp_path, env)
    run.set_up(http_sandbox.sandbox.world)
    with run.served() as base:
        tech, boss = run.login(base, "tech"), run.login(base, "boss")
        job_id, started = run.work_on_a_job(base, tech, **{"X-Request-ID": "trace-me-1"})
        assert started.headers["X-Request-ID"] == "trace-me-1"
        upload = httpx.post(f"{base}/v1/jobs/{job_id}/documents", headers=tech, data={"kind": "POA"},
                            files={"file": ("poa.jpg", io.BytesIO(media.jpeg()), "image/jpeg")})
        assert upload.status_code == 201
        assert httpx.post(f"{base}/v1/jobs/{job_id}/closure", headers=tech).status_code == 200
        assert httpx.post(f"{base}/v1/jobs/{job_id}/closure/approve", headers=boss).status_code == 200
        httpx.post(f"{base}/v1/auth/token", json={"username": "tech", "password": "wrong-password"})
    run.run("worker", "--drain")
    assert http_sandbox.sandbox.state.jobs[job_id].completions == 1

    text = "\n".join(run.outputs)
    for secret in (SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN, PASSWORD, "wrong-password", "Atza|"):
        assert secret not in text, f"{secret[:6]}... leaked into the logs"
    assert tech["Authorization"].split()[1] not in text
    records = [json.loads(line) for chunk in run.logs for line in chunk.splitlines() if line.strip()]
    assert len(records) > 10  # every line of the log stream parsed as JSON
    traced = [r for r in records if r.get("request_id") == "trace-me-1"]
    assert traced and traced[0]["job_id"] == job_id and traced[0]["route"].endswith("/start")
    assert {"ts", "level", "logger", "message"} <= set(records[0])
