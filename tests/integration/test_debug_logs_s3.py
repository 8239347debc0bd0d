"""A full run at DEBUG with S3 storage and temporary AWS credentials: the log
stream carries no AWS key, session token, SigV4 Authorization header, LWA secret,
nor a GPS coordinate of an uploaded photo."""

from __future__ import annotations

import io
import json
import os
import re
import uuid

import httpx
import pytest

from techapi.spapi.sandbox import SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN
from tests import media
from tests.conftest import S3_BUCKET
from tests.fullrun import FullRun
from tests.integration.test_closure_pipeline import environment

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
    run = FullRun(tmp_path, env)
    run.set_up(http_sandbox.sandbox.world)
    with run.served() as base:
        tech, boss = run.login(base, "tech"), run.login(base, "boss")
        job_id, _ = run.work_on_a_job(base, tech)
        for kind in ("POA", "PHOTO"):
            photo = media.jpeg(gps=True, color=(10, 200 if kind == "POA" else 100, 30))
            upload = httpx.post(f"{base}/v1/jobs/{job_id}/documents", headers=tech, data={"kind": kind},
                                files={"file": (f"{kind}.jpg", io.BytesIO(photo), "image/jpeg")})
            assert upload.status_code == 201, upload.text
        assert httpx.post(f"{base}/v1/jobs/{job_id}/closure", headers=tech).status_code == 200
        assert httpx.post(f"{base}/v1/jobs/{job_id}/closure/approve", headers=boss).status_code == 200
    run.run("worker", "--drain")
    assert http_sandbox.sandbox.state.jobs[job_id].completions == 1

    text = "\n".join(run.outputs)
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
