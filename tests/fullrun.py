"""techapi in its real processes, as an operator runs it: the CLI sets the
database up, `techapi serve` answers over HTTP, and everything they print is kept
for the test to read."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from tests.conftest import NOW, PASSWORD, free_port, wait_for_http
from tests.integration.test_closure_pipeline import ROOT


class FullRun:
    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.tmp_path, self.env = tmp_path, env
        self.outputs: list[str] = []  # everything the processes printed
        self.logs: list[str] = []  # what went to stderr: the log stream

    def run(self, *args: str, stdin: str = "") -> None:
        result = subprocess.run([sys.executable, "-m", "techapi", *args], env=self.env, cwd=ROOT, input=stdin,
                                capture_output=True, text=True, timeout=120)
        self.outputs.extend([result.stdout, result.stderr])
        self.logs.append(result.stderr)
        assert result.returncode == 0, result.stderr[-2000:]

    def set_up(self, world) -> None:
        """The schema, a technician and their supervisor, and today's jobs."""
        self.run("db", "upgrade")
        self.run("users", "create", "--username", "tech", "--role", "technician", "--technician-id",
                 world.technician_ids[0], "--password-stdin", stdin=PASSWORD + "\n")
        self.run("users", "create", "--username", "boss", "--role", "supervisor", "--store", world.store_ids[0],
                 "--password-stdin", stdin=PASSWORD + "\n")
        self.run("sync", "--date", NOW.date().isoformat())

    @contextmanager
    def served(self) -> Iterator[str]:
        """`techapi serve` on a free port; its output goes to files, not pipes: at DEBUG
        it writes more than a pipe holds, and a full pipe would block every request."""
        port = free_port()
        out_file, err_file = (self.tmp_path / "serve.out").open("w+"), (self.tmp_path / "serve.err").open("w+")
        server = subprocess.Popen([sys.executable, "-m", "techapi", "serve", "--port", str(port)], env=self.env,
                                  cwd=ROOT, stdout=out_file, stderr=err_file, text=True)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_http(f"{base}/healthz")
            yield base
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            out, err = (f.seek(0) or f.read() for f in (out_file, err_file))
            out_file.close()
            err_file.close()
            self.outputs.extend([out, err])
            self.logs.append(err)

    @staticmethod
    def login(base: str, user: str) -> dict[str, str]:
        token = httpx.post(f"{base}/v1/auth/token", json={"username": user, "password": PASSWORD}).json()
        return {"Authorization": f"Bearer {token['access_token']}"}

    @staticmethod
    def work_on_a_job(base: str, tech: dict[str, str], **start_headers: str) -> tuple[str, httpx.Response]:
        """The technician starts and finishes today's third job; its id and the start's answer."""
        jobs = httpx.get(f"{base}/v1/jobs", params={"date": NOW.date().isoformat()}, headers=tech).json()["jobs"]
        job_id, start = jobs[2]["serviceJobId"], jobs[2]["appointment"]["start"]
        response = httpx.post(f"{base}/v1/jobs/{job_id}/start", json={"at": start}, headers={**tech, **start_headers})
        assert response.status_code == 200
        finish = (datetime.fromisoformat(start) + timedelta(hours=1)).isoformat()
        assert httpx.post(f"{base}/v1/jobs/{job_id}/finish", json={"at": finish}, headers=tech).status_code == 200
        return job_id, response
