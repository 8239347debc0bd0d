"""The production web server: gunicorn with gunicorn.conf.py, behind a proxy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import PASSWORD, free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_gunicorn_serves_the_app_with_the_production_config(tmp_path, database_url, storage_env):
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("TECHAPI_", "PROMETHEUS_"))},
           "TECHAPI_DATABASE_URL": database_url, "TECHAPI_INSTANCE_PATH": str(tmp_path), **storage_env,
           "PORT": str(port), "WEB_CONCURRENCY": "2", "WEB_THREADS": "2",
           "TECHAPI_METRICS_TOKEN": "scraper-token-0123456789"}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    proc = subprocess.Popen([str(gunicorn), "-c", "gunicorn.conf.py", "app:app"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/readyz", 30)
        for _ in range(20):  # spread over both processes
            assert httpx.get(f"{base}/healthz").status_code == 200
        assert httpx.get(f"{base}/metrics").status_code == 401  # the token is required
        scraper = {"Authorization": "Bearer scraper-token-0123456789"}
        metrics = httpx.get(f"{base}/metrics", headers=scraper).text
        count = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                    if line.startswith("techapi_http_request_duration_seconds_count") and 'route="/healthz"' in line)
        assert count >= 20  # one registry across the processes
        bad = httpx.post(f"{base}/v1/auth/token", json={"username": "nobody", "password": PASSWORD})
        assert bad.status_code == 401 and bad.headers["X-Request-ID"]
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=40)
    assert proc.returncode == 0, output[-2000:]


def test_behind_a_trusted_proxy_the_client_address_comes_from_x_forwarded_for(settings, clock, sandbox, auth):
    from techapi import create_app

    app = create_app(settings.with_overrides(proxy_fix_hops=1), clock=clock, sandbox=sandbox)
    client = app.test_client()
    for i in range(20):  # one client, many usernames: the per-client limit applies to the forwarded address
        client.post("/v1/auth/token", json={"username": f"u{i}", "password": "x"},
                    headers={"X-Forwarded-For": "203.0.113.9"}, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    blocked = client.post("/v1/auth/token", json={"username": "z", "password": "x"},
                          headers={"X-Forwarded-For": "203.0.113.9"}, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    other = client.post("/v1/auth/token", json={"username": "z", "password": "x"},
                        headers={"X-Forwarded-For": "198.51.100.7"}, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert blocked.status_code == 429 and other.status_code == 401
    app.extensions["techapi"].db.dispose()


@pytest.mark.db_independent
def test_a_web_process_neither_walks_the_loaded_app_nor_beats_its_heart_on_disk():
    """gunicorn.conf.py's post_worker_init freezes what is loaded: the full collections that
    stalled every thread of a process (bench/load.py's p99) no longer walk it."""
    import gc
    import runpy

    environ = dict(os.environ)
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    try:
        config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))  # it sets two variables of its own
        config["post_worker_init"](None)
        assert gc.get_freeze_count() > 10_000  # this process's modules: pytest's and techapi's
        # The heartbeat, written on every worker loop, in memory where there is some.
        assert config["worker_tmp_dir"] == ("/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
        Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).rmdir()
    finally:
        gc.unfreeze()
        os.environ.clear()
        os.environ.update(environ)
