"""A web process killed in the middle of a request: its Idempotency-Key is free
again once the request timeout has passed, under gunicorn as in production."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PASSWORD, TEST_DATABASE_URL, free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[2]
LEASE = 8  # TECHAPI_REQUEST_TIMEOUT_SECONDS: gunicorn's timeout and the key's lease


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def until(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {seconds} s")


@pytest.mark.slow
@pytest.mark.skipif(not TEST_DATABASE_URL, reason="holds a row lock to stop the request mid-way: PostgreSQL")
def test_a_request_killed_mid_way_frees_its_key_after_the_request_timeout(tmp_path, settings, storage_env,
                                                                          afternoon_job):
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("TECHAPI_", "PROMETHEUS_", "WEB_"))},
           "TECHAPI_DATABASE_URL": settings.database_url, "TECHAPI_INSTANCE_PATH": str(tmp_path), **storage_env,
           "PORT": str(port), "WEB_CONCURRENCY": "1", "WEB_THREADS": "4",
           "TECHAPI_REQUEST_TIMEOUT_SECONDS": str(LEASE)}
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "app:app"],
                              env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base, key = f"http://127.0.0.1:{port}", str(uuid.uuid4())
    path = f"/v1/jobs/{afternoon_job}/closure"
    engine = create_engine(settings.database_url)
    try:
        wait_for_http(f"{base}/readyz", 30)
        token = httpx.post(f"{base}/v1/auth/token", json={"username": "tech", "password": PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}", "Idempotency-Key": key}
        worker = until(lambda: children_of(server.pid), 10, "a gunicorn worker")[0]
        with engine.connect() as blocker:
            # The closure waits for the job's row lock: the request is stopped after taking its key.
            blocker.execute(text("SELECT 1 FROM jobs WHERE service_job_id = :id FOR UPDATE"), {"id": afternoon_job})
            cut_off: list[BaseException] = []
            thread = threading.Thread(target=lambda: _post_expecting_a_cut(base + path, headers, cut_off))
            thread.start()
            with engine.connect() as probe:
                until(lambda: probe.execute(text("SELECT count(*) FROM idempotency_keys WHERE status_code IS NULL")
                                            ).scalar() == 1, 15, "the key taken")
            taken_at = time.monotonic()
            os.kill(worker, signal.SIGKILL)  # an OOM kill, say
            thread.join(timeout=30)
            assert cut_off, "the request was answered before its process died"
            blocker.rollback()
        until(lambda: [p for p in children_of(server.pid) if p != worker], 30, "a new worker")
        wait_for_http(f"{base}/readyz", 30)
        waiting = httpx.post(base + path, headers=headers, timeout=30)
        if time.monotonic() - taken_at < LEASE - 1:  # a slow respawn may have used the lease up already
            assert waiting.status_code == 409 and "still being processed" in waiting.json()["message"]
        retried = until(lambda: _unless_still_running(httpx.post(base + path, headers=headers, timeout=30)),
                        LEASE + 20, "the retry running again")
        assert time.monotonic() - taken_at >= LEASE - 1
        # It ran: the job is not ready to close, which the closure itself says.
        assert retried.status_code == 409 and "not ready to close" in retried.json()["message"]
        assert "Idempotent-Replayed" not in retried.headers
        replay = httpx.post(base + path, headers=headers, timeout=30)
        assert replay.headers["Idempotent-Replayed"] == "true" and replay.content == retried.content
    finally:
        engine.dispose()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=40)
        finally:
            log.close()


def _post_expecting_a_cut(url: str, headers: dict[str, str], cut_off: list[BaseException]) -> None:
    try:
        httpx.post(url, headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        cut_off.append(exc)


def _unless_still_running(response: httpx.Response) -> httpx.Response | None:
    if response.status_code == 409 and "still being processed" in response.json()["message"]:
        time.sleep(0.5)
        return None
    return response
