"""The `techapi` command. Most of it runs in this process through the `runner`
fixture (click's CliRunner); a real process is kept only where the process
itself is under test: `serve` (a server answering on a port, stopped by
SIGTERM), `worker` (it installs SIGTERM/SIGINT handlers, which would replace
pytest's own) and what a separate process logs (the root log handler is set up
once per process, so only a process of its own shows what an operator sees)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from techapi.auth.models import User
from techapi.closures.models import Closure, ClosureState
from techapi.jobs.models import Job
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


# In this process ----------------------------------------------------------------


def test_db_upgrade_creates_the_schema_and_is_idempotent(runner, empty_database_url):
    env = {"TECHAPI_DATABASE_URL": empty_database_url()}
    first = runner.invoke(["db", "upgrade"], env=env)
    assert first.exit_code == 0, first.output
    assert runner.invoke(["db", "upgrade"], env=env).exit_code == 0
    current = runner.invoke(["db", "current"], env=env)
    assert current.exit_code == 0
    revision = current.stdout.split("current: ", 1)[1].split(";", 1)[0]
    assert f"head: {revision}" in current.stdout and revision != "empty"


def test_db_current_on_an_empty_database_says_so_and_fails(runner, empty_database_url):
    result = runner.invoke(["db", "current"], env={"TECHAPI_DATABASE_URL": empty_database_url()})
    assert result.exit_code == 1 and result.stdout.startswith("current: empty; head: ")


def test_worker_and_sync_refuse_an_outdated_schema_and_say_what_to_run(runner, empty_database_url):
    env = {"TECHAPI_DATABASE_URL": empty_database_url()}
    for args in (["worker", "--once"], ["sync"]):
        result = runner.invoke(args, env=env)
        assert result.exit_code != 0
        assert "run `techapi db upgrade` first" in result.stderr


def test_users_create_reads_the_password_from_stdin(runner, deps):
    ok = runner.invoke(["users", "create", "--username", "Ana", "--role", "technician",
                        "--technician-id", "ATECH0000001", "--password-stdin"], input="a-long-password\n")
    assert ok.exit_code == 0 and "created technician ana" in ok.stdout
    dup = runner.invoke(["users", "create", "--username", "ana", "--role", "admin", "--password-stdin"],
                        input="a-long-password\n")
    assert dup.exit_code != 0 and "already exists" in dup.stderr
    weak = runner.invoke(["users", "create", "--username", "bo", "--role", "admin", "--password-stdin"],
                         input="abc\n")
    assert weak.exit_code != 0 and "at least 8 characters" in weak.stderr
    sup = runner.invoke(["users", "create", "--username", "sue", "--role", "supervisor", "--store", "S1",
                         "--store", "S2", "--password-stdin"], input="a-long-password\n")
    assert sup.exit_code == 0
    no_store = runner.invoke(["users", "create", "--username", "sam", "--role", "supervisor", "--password-stdin"],
                             input="a-long-password\n")
    assert no_store.exit_code != 0 and "--store" in no_store.stderr
    # The password read from stdin is the one that logs in.
    with deps.db.session() as session:
        ana = session.scalar(select(User).where(User.username == "ana"))
        assert ana is not None and ana.technician_id == "ATECH0000001"
        assert deps.passwords.verify(ana.password_hash, "a-long-password")


def test_an_invalid_setting_stops_the_command_naming_the_variable(runner):
    # An exception escaping the command would propagate out of invoke: no traceback, by construction.
    result = runner.invoke(["db", "upgrade"], env={"TECHAPI_TIMEZONE": "Nowhere/Land"})
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: configuration: TECHAPI_TIMEZONE")


def test_openapi_export_writes_the_committed_document(runner, tmp_path):
    out = tmp_path / "spec.json"
    result = runner.invoke(["openapi", "export", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text() == (ROOT / "openapi" / "openapi.json").read_text()


def test_check_config_passes_on_a_sound_environment(runner):
    result = runner.invoke(["check-config"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split(":", 1)[0] for line in lines] == [
        "ok   database", "ok   migrations", "ok   blob store", "ok   SP-API credentials", "ok   upload allow-list"]


def test_check_config_fails_and_names_the_check_that_failed(runner, empty_database_url):
    result = runner.invoke(["check-config"], env={"TECHAPI_DATABASE_URL": empty_database_url()})
    assert result.exit_code == 1
    assert "FAIL migrations: database schema is at nothing" in result.stdout
    assert "ok   database" in result.stdout and "ok   blob store" in result.stdout


def test_a_blob_store_folder_that_cannot_be_made_stops_every_command_naming_the_variable(runner, tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the store's folder should be")
    result = runner.invoke(["check-config"], env={"TECHAPI_STORAGE_URL": f"file://{blocked}"})
    assert result.exit_code == 1
    assert f"configuration: TECHAPI_STORAGE_URL: file://{blocked} is not a folder techapi can write to" \
        in result.output
    assert "Traceback" not in result.output


def test_status_lists_the_queue_and_the_closures_that_need_an_operator(runner, deps):
    with deps.db.transaction() as session:
        session.add(Job(service_job_id="J-FAILED", status="NOT_SERVICED", payload={}, synced_at=NOW))
        session.flush()
        session.add(Closure(service_job_id="J-FAILED", state=ClosureState.FAILED, requested_at=NOW,
                            updated_at=NOW, failure_reason="SP-API refused the closure"))
    result = runner.invoke(["status"])
    assert result.exit_code == 0, result.output
    assert "Queue (kind, state, count, oldest):\n  (empty)" in result.stdout
    assert "Closures needing attention (1):" in result.stdout
    assert "J-FAILED  FAILED" in result.stdout and "SP-API refused the closure" in result.stdout


def test_status_refuses_an_outdated_schema(runner, empty_database_url):
    result = runner.invoke(["status"], env={"TECHAPI_DATABASE_URL": empty_database_url()})
    assert result.exit_code == 1 and "run `techapi db upgrade` first" in result.stderr


# In a process of their own --------------------------------------------------------


@pytest.mark.slow
def test_serve_on_the_embedded_defaults_gives_a_working_api_with_demo_accounts(tmp_path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "techapi", "serve", "--port", str(port)],
                            env=base_env(tmp_path), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/healthz", 60)
        token = httpx.post(f"{base}/v1/auth/token", json={"username": "demo-tech", "password": "demo"}).json()
        tech = {"Authorization": f"Bearer {token['access_token']}"}
        jobs = httpx.get(f"{base}/v1/jobs", headers=tech).json()
        assert len(jobs["jobs"]) == 5
        sup = httpx.post(f"{base}/v1/auth/token", json={"username": "demo-supervisor", "password": "demo"})
        assert sup.status_code == 200
        boss = {"Authorization": f"Bearer {sup.json()['access_token']}"}
        # The README's scheduling walk-through: the technician's home store is the supervisor's store.
        home = httpx.get(f"{base}/v1/me", headers=tech).json()["storeIds"]
        assert home and home == httpx.get(f"{base}/v1/me", headers=boss).json()["storeIds"]
        assert httpx.get(f"{base}/docs").status_code == 200
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "techapi"
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert "demo-tech, demo-supervisor (password 'demo')" in output
    assert (tmp_path / "instance" / "techapi.db").exists()


@pytest.mark.slow
def test_worker_once_syncs_today(tmp_path, clean_database):
    env = base_env(tmp_path, clean_database)
    result = run(["worker", "--once"], env)
    assert result.returncode == 0, result.stderr
    second = run(["sync"], env)
    assert "incremental sync" in second.stdout


@pytest.mark.slow
def test_sync_against_spapi_over_http_never_logs_the_lwa_secrets(tmp_path, clean_database, http_sandbox):
    env = {
        **base_env(tmp_path, clean_database),
        "TECHAPI_SPAPI_ENDPOINT": http_sandbox.url,
        "TECHAPI_LWA_TOKEN_URL": f"{http_sandbox.url}/auth/o2/token",
        "TECHAPI_LWA_CLIENT_ID": SANDBOX_CLIENT_ID,
        "TECHAPI_LWA_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
        "TECHAPI_LWA_REFRESH_TOKEN": SANDBOX_REFRESH_TOKEN,
        "TECHAPI_LOG_LEVEL": "DEBUG",
    }
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
