"""A full run at DEBUG with S3 storage and temporary AWS credentials: the log
stream carries no AWS key, session token, SigV4 Authorization header, LWA secret,
nor a GPS coordinate of an uploaded photo."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from datetime import datetime, timedelta

import httpx
import pytest

from techapi.spapi.sandbox import SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN
from tests import media
from tests.conftest import NOW, PASSWORD, S3_BUCKET, free_port, wait_for_http
from tests.integration.test_closure_pipeline import ROOT, environment

# Recognisable temporary credentials; moto's server accepts any.
AWS = {"AWS_ACCESS_KEY_ID": "ASIATECHAPILOGTEST42",
       "AWS_SECRET_ACCESS_KEY": "techapiSecretAccessKeyThatMustNotBeLogged0",
       "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjEKAPtechapiSessionTokenThatMustNotBeLogged=="}
# What the photo's GPS block says (47°36'36" N, 122°19'59" W), as Pillow would print it,
# and as the decimal degrees techapi stores.
GPS_TEXTS = ("47.0, 36.0, 36.0", "122.0, 19.0, 59.0", "47.61", "122.333")


@pytest.mark.slow
def test_a_debug_run_on_s3_logs_no_credential_and_no_gps(tmp_path, clean_database, http_sandbox, s3_endpoint):
    storage = {"TECHAPI_STORAGE_URL": f"s3://{S3_BUCKET}/{uuid.uuid4().hex}", "TECHAPI_S3_ENDPOINT_URL": s3_endpoint}
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("TECHAPI_", "AWS_"))}, **AWS,
           "AWS_DEFAULT_REGION": "us-east-1",
           **environment(tmp_path, clean_database, http_sandbox.url, **storage), "TECHAPI_LOG_LEVEL": "DEBUG"}
    world = http_sandbox.sandbox.world
    logs: list[str] = []

    def run(*args: str, stdin: str = "") -> None:
        result = subprocess.run([sys.executable, "-m", "techapi", *args], env=env, cwd=ROOT, input=stdin,
                                capture_output=True, text=True, timeout=120)
        logs.extend([result.stdout, result.stderr])
        assert result.returncode == 0, result.stderr[-2000:]

    run("db", "upgrade")
    run("users", "create", "--username", "tech", "--role", "technician", "--technician-id",
        world.technician_ids[0], "--password-stdin", stdin=PASSWORD + "\n")
    run("users", "create", "--username", "boss", "--role", "supervisor", "--store", world.store_ids[0],
        "--password-stdin", stdin=PASSWORD + "\n")
    run("sync", "--date", NOW.date().isoformat())

    port = free_port()
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
        job_id, start = jobs[2]["serviceJobId"], jobs[2]["appointment"]["start"]
        assert httpx.post(f"{base}/v1/jobs/{job_id}/start", json={"at": start}, headers=tech).status_code == 200
        finish = (datetime.fromisoformat(start) + timedelta(hours=1)).isoformat()
        assert httpx.post(f"{base}/v1/jobs/{job_id}/finish", json={"at": finish}, headers=tech).status_code == 200
        for kind in ("POA", "PHOTO"):
            photo = media.jpeg(gps=True, color=(10, 200 if kind == "POA" else 100, 30))
            upload = httpx.post(f"{base}/v1/jobs/{job_id}/documents", headers=tech, data={"kind": kind},
                                files={"file": (f"{kind}.jpg", io.BytesIO(photo), "image/jpeg")})
            assert upload.status_code == 201, upload.text
        assert httpx.post(f"{base}/v1/jobs/{job_id}/closure", headers=tech).status_code == 200
        assert httpx.post(f"{base}/v1/jobs/{job_id}/closure/approve", headers=boss).status_code == 200
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        logs.extend(f.seek(0) or f.read() for f in (out_file, err_file))
        out_file.close()
        err_file.close()
    run("worker", "--drain")
    assert http_sandbox.sandbox.state.jobs[job_id].completions == 1

    text = "\n".join(logs)
    assert sum(1 for line in text.splitlines() if "\"level\": \"DEBUG\"" in line) >= 1  # it ran at DEBUG
    for name, value in AWS.items():
        assert value not in text, f"{name} leaked into the logs"
    for secret in (SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN, "Atza|", "AWS4-HMAC-SHA256 Credential"):
        assert secret not in text, f"{secret[:12]}... leaked into the logs"
    for coordinate in GPS_TEXTS:
        assert coordinate not in text, f"the photo's GPS {coordinate} reached the logs"
    assert not re.search(r"Signature=[0-9a-f]{16}", text), "a SigV4 signature reached the logs"
    for headers in (tech, boss):  # our own bearer tokens, sent in every request's Authorization header
        assert headers["Authorization"].split()[1] not in text
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    chatty = [r for r in records if r["level"] == "DEBUG" and r["logger"].startswith(("botocore", "urllib3", "PIL"))]
    assert records and not chatty, chatty[:3]  # they stay at INFO
