"""Serving an app for the load benchmark: gunicorn with the production config
(gunicorn.conf.py) on a free loopback port, and a count of the worker processes
it starts while a scenario runs (max_requests recycling shows there)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int, children: bool = False) -> float:
    """CPU time of a process (with its reaped children's if asked); 0 where /proc is not."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if children else 0)
    return ticks / TICK


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    proc: subprocess.Popen
    base: str
    boot_ms: int | None = None  # set by whoever measures it before the load

    def workers(self) -> set[int]:
        """The master's child processes now (Linux /proc; empty elsewhere)."""
        try:
            path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
            return {int(p) for p in path.read_text().split()}
        except (OSError, ValueError):
            return set()

    def cpu_seconds(self) -> float:
        """CPU time of the master and every worker it started so far (the reaped ones' included)."""
        return cpu_seconds(self.proc.pid, children=True) + sum(cpu_seconds(w) for w in self.workers())

    def boot_cpu_seconds(self) -> float | None:
        """Median CPU time of the workers now: taken before any load, what starting one costs."""
        times = sorted(cpu_seconds(w) for w in self.workers())
        return times[len(times) // 2] if times else None

    @contextmanager
    def counting_restarts(self) -> Iterator[dict[str, int | None]]:
        """Yields a dict whose "restarts" is, once the block ends, how many workers were started in it."""
        before, result, stop = self.workers(), {"restarts": None}, threading.Event()
        seen = set(before)

        def sample() -> None:
            while not stop.wait(0.05):
                seen.update(self.workers())

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            yield result
        finally:
            stop.set()
            sampler.join()
            seen.update(self.workers())
            result["restarts"] = len(seen - before) if before else None


@contextmanager
def serve(app_path: str, env: dict[str, str], log: Path, probe: str = "/v1/jobs") -> Iterator[Server]:
    """gunicorn serving `app_path` until the block ends; its log goes to `log`."""
    port = free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    with log.open("w") as out:
        proc = subprocess.Popen([str(gunicorn), "-c", "gunicorn.conf.py", app_path], cwd=ROOT,
                                env={**env, "PORT": str(port)}, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if proc.poll() is not None:
                raise RuntimeError(f"{app_path} exited at start-up: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}{probe}", timeout=1).status_code in (200, 401, 422):
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"{app_path} did not start in 60 s")
        yield Server(proc, base)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
