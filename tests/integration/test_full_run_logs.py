"""A full run in real processes against SP-API over HTTP: every log line is JSON,
and the LWA secrets from the environment appear in none of them."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta

import httpx
import pytest

from techapi.spapi.sandbox import SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN
from tests import media
from tests.conftest import NOW, PASSWORD, free_port, wait_for_http
from tests.integration.test_closure_pipeline import ROOT, environment


@pytest.mark.slow
def test_a_full_run_logs_json_and_never_a_secret(tmp_path, clean_database, http_sandbox, storage_env):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TECHAPI_")},
           **environment(tmp_path, clean_database, http_sandbox.url, **storage_env), "TECHAPI_LOG_LEVEL": "DEBUG"}
    world = http_sandbox.sandbox.world
    outputs: list[str] = []  # everything the processes printed
    logs: list[str] = []  # what went to stderr: the log stream

    def run(*args: str, stdin: str = "") -> None:
        result = subprocess.run([sys.executable, "-m", "techapi", *args], env=env, cwd=ROOT, input=stdin,
                                capture_output=True, text=True, timeout=120)
        outputs.extend([result.stdout, result.stderr])
        logs.append(result.stderr)
        assert result.returncode == 0, result.stderr[-2000:]

    run("db", "upgrade")
    run("users", "create", "--username", "tech", "--role", "technician", "--technician-id",
        world.technician_ids[0], "--password-stdin", stdin=PASSWORD + "\n")
    run("users", "create", "--username", "boss", "--role", "supervisor", "--store", world.store_ids[0],
        "--password-stdin", stdin=PASSWORD + "\n")
    run("sync", "--date", NOW.date().isoformat())

    port = free_port()
    # Files, not pipes: at DEBUG the server writes more than a pipe holds, and a
    # full pipe nobody reads would block its logging (and every request) mid-test.
    out_file, err_file = (tmp_path / "serve.out").open("w+"), (tmp_path / "serve.err").open("w+")
    server = subprocess.Popen([sys.executable, "-m", "techapi", "serve", "--port", str(port)], env=env, cwd=ROOT,
                              stdout=out_file, stderr=err_file, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/healthz")

        def login(user: str) -> dict[str, str]:
            token = httpx.post(f"{base}/v1/auth/token", json={"username": user, "password": PASSWORD}).json()
            return {"Authorization": f"Bearer {token['access_token']}"}

        tech, boss = login("tech"), login("boss")
        jobs = httpx.get(f"{base}/v1/jobs", params={"date": NOW.date().isoformat()}, headers=tech).json()["jobs"]
        job_id = jobs[2]["serviceJobId"]
        start = jobs[2]["appointment"]["start"]
        response = httpx.post(f"{base}/v1/jobs/{job_id}/start", json={"at": start},
                              headers={**tech, "X-Request-ID": "trace-me-1"})
        assert response.headers["X-Request-ID"] == "trace-me-1"
        finish = (datetime.fromisoformat(start) + timedelta(hours=1)).isoformat()
        assert httpx.post(f"{base}/v1/jobs/{job_id}/finish", json={"at": finish}, headers=tech).status_code == 200
        upload = httpx.post(f"{base}/v1/jobs/{job_id}/documents", headers=tech, data={"kind": "POA"},
                            files={"file": ("poa.jpg", io.BytesIO(media.jpeg()), "image/jpeg")})
        assert upload.status_code == 201
        assert httpx.post(f"{base}/v1/jobs/{job_id}/closure", headers=tech).status_code == 200
        assert httpx.post(f"{base}/v1/jobs/{job_id}/closure/approve", headers=boss).status_code == 200
        httpx.post(f"{base}/v1/auth/token", json={"username": "tech", "password": "wrong-password"})
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        out, err = (f.seek(0) or f.read() for f in (out_file, err_file))
        out_file.close()
        err_file.close()
        outputs.extend([out, err])
        logs.append(err)
    run("worker", "--drain")
    assert http_sandbox.sandbox.state.jobs[job_id].completions == 1

    text = "\n".join(outputs)
    for secret in (SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN, PASSWORD, "wrong-password", "Atza|"):
        assert secret not in text, f"{secret[:6]}... leaked into the logs"
    assert tech["Authorization"].split()[1] not in text
    records = [json.loads(line) for chunk in logs for line in chunk.splitlines() if line.strip()]
    assert len(records) > 10  # every line of the log stream parsed as JSON
    traced = [r for r in records if r.get("request_id") == "trace-me-1"]
    assert traced and traced[0]["job_id"] == job_id and traced[0]["route"].endswith("/start")
    assert {"ts", "level", "logger", "message"} <= set(records[0])
