"""The `techapi` command in real processes: serve, worker, sync, users, db, openapi."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from techapi.spapi.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN
from tests.conftest import NOW, free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], env: dict[str, str], stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "techapi", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=ROOT)


def base_env(tmp_path: Path, database_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TECHAPI_")}
    env["TECHAPI_INSTANCE_PATH"] = str(tmp_path / "instance")
    if database_url:
        env["TECHAPI_DATABASE_URL"] = database_url
    return env


def test_serve_on_the_embedded_defaults_gives_a_working_api_with_demo_accounts(tmp_path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "techapi", "serve", "--port", str(port)],
                            env=base_env(tmp_path), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/healthz", 60)
        token = httpx.post(f"{base}/v1/auth/token", json={"username": "demo-tech", "password": "demo"}).json()
        jobs = httpx.get(f"{base}/v1/jobs", headers={"Authorization": f"Bearer {token['access_token']}"}).json()
        assert len(jobs["jobs"]) == 5
        sup = httpx.post(f"{base}/v1/auth/token", json={"username": "demo-supervisor", "password": "demo"})
        assert sup.status_code == 200
        assert httpx.get(f"{base}/docs").status_code == 200
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "techapi"
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert "demo-tech, demo-supervisor (password 'demo')" in output
    assert (tmp_path / "instance" / "techapi.db").exists()


def test_db_upgrade_creates_the_schema_and_is_idempotent(tmp_path, empty_database_url):
    env = base_env(tmp_path, empty_database_url())
    first = run(["db", "upgrade"], env)
    assert first.returncode == 0, first.stderr
    assert run(["db", "upgrade"], env).returncode == 0
    current = run(["db", "current"], env)
    assert current.returncode == 0
    revision = current.stdout.split("current: ", 1)[1].split(";", 1)[0]
    assert f"head: {revision}" in current.stdout and revision != "empty"


def test_worker_and_sync_refuse_an_outdated_schema_and_say_what_to_run(tmp_path, empty_database_url):
    env = base_env(tmp_path, empty_database_url())
    for args in (["worker", "--once"], ["sync"]):
        result = run(args, env)
        assert result.returncode != 0
        assert "run `techapi db upgrade` first" in result.stderr


def test_worker_once_syncs_today(tmp_path, empty_database_url):
    env = base_env(tmp_path, empty_database_url())
    run(["db", "upgrade"], env)
    result = run(["worker", "--once"], env)
    assert result.returncode == 0, result.stderr
    second = run(["sync"], env)
    assert "incremental sync" in second.stdout


def test_users_create_reads_the_password_from_stdin(tmp_path, empty_database_url):
    env = base_env(tmp_path, empty_database_url())
    run(["db", "upgrade"], env)
    ok = run(["users", "create", "--username", "Ana", "--role", "technician", "--technician-id", "ATECH0000001",
              "--password-stdin"], env, stdin="a-long-password\n")
    assert ok.returncode == 0 and "created technician ana" in ok.stdout
    dup = run(["users", "create", "--username", "ana", "--role", "admin", "--password-stdin"], env,
              stdin="a-long-password\n")
    assert dup.returncode != 0 and "already exists" in dup.stderr
    weak = run(["users", "create", "--username", "bo", "--role", "admin", "--password-stdin"], env, stdin="abc\n")
    assert weak.returncode != 0 and "at least 8 characters" in weak.stderr
    sup = run(["users", "create", "--username", "sue", "--role", "supervisor", "--store", "S1", "--store", "S2",
               "--password-stdin"], env, stdin="a-long-password\n")
    assert sup.returncode == 0
    no_store = run(["users", "create", "--username", "sam", "--role", "supervisor", "--password-stdin"], env,
                   stdin="a-long-password\n")
    assert no_store.returncode != 0 and "--store" in no_store.stderr


def test_an_invalid_setting_stops_the_command_naming_the_variable(tmp_path):
    env = {**base_env(tmp_path), "TECHAPI_TIMEZONE": "Nowhere/Land"}
    result = run(["db", "upgrade"], env)
    assert result.returncode != 0
    assert "TECHAPI_TIMEZONE" in result.stderr and "Traceback" not in result.stderr


def test_sync_against_spapi_over_http_never_logs_the_lwa_secrets(tmp_path, empty_database_url, http_sandbox):
    env = {
        **base_env(tmp_path, empty_database_url()),
        "TECHAPI_SPAPI_ENDPOINT": http_sandbox.url,
        "TECHAPI_LWA_TOKEN_URL": f"{http_sandbox.url}/auth/o2/token",
        "TECHAPI_LWA_CLIENT_ID": SANDBOX_CLIENT_ID,
        "TECHAPI_LWA_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
        "TECHAPI_LWA_REFRESH_TOKEN": SANDBOX_REFRESH_TOKEN,
        "TECHAPI_LOG_LEVEL": "DEBUG",
    }
    run(["db", "upgrade"], env)
    ok = run(["sync", "--date", NOW.date().isoformat()], env)
    assert ok.returncode == 0, ok.stderr
    assert "30 fetched" in ok.stdout
    wrong = run(["sync"], {**env, "TECHAPI_LWA_REFRESH_TOKEN": "Atzr|wrong-refresh-token-789"})
    assert wrong.returncode != 0 and "invalid_grant" in wrong.stderr
    for output in (ok.stdout + ok.stderr, wrong.stdout + wrong.stderr):
        assert SANDBOX_CLIENT_SECRET not in output
        assert SANDBOX_REFRESH_TOKEN not in output
        assert "wrong-refresh-token-789" not in output
        assert "Atza|" not in output


def test_openapi_export_writes_the_committed_document(tmp_path):
    out = tmp_path / "spec.json"
    result = run(["openapi", "export", "--output", str(out)], base_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert out.read_text() == (ROOT / "openapi" / "openapi.json").read_text()


def test_demo_accounts_exist_in_sandbox_mode_only(tmp_path, http_sandbox, database_url):
    from techapi import create_app
    from techapi.auth.demo import ensure_demo_users
    from techapi.config import load_settings

    settings = load_settings(environ={
        "TECHAPI_DATABASE_URL": database_url, "TECHAPI_INSTANCE_PATH": str(tmp_path),
        "TECHAPI_SPAPI_ENDPOINT": http_sandbox.url, "TECHAPI_LWA_TOKEN_URL": f"{http_sandbox.url}/auth/o2/token",
        "TECHAPI_LWA_CLIENT_ID": "id", "TECHAPI_LWA_CLIENT_SECRET": "secret", "TECHAPI_LWA_REFRESH_TOKEN": "r"})
    app = create_app(settings)
    with pytest.raises(RuntimeError, match="sandbox mode only"):
        ensure_demo_users(app.extensions["techapi"])
