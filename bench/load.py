"""Job of the day under load: GET /v1/jobs for 200 technicians with 5 jobs each,
on PostgreSQL, through gunicorn with the production config (gunicorn.conf.py),
against a bare Flask JSON endpoint served by the same gunicorn config in the
same run (the ceiling). The load generator is wrk (Debian: apt-get install wrk).

Goal: at least 0.5 of the ceiling's requests per second, no errors.
Usage: python bench/load.py [--seconds 20] [--json out.json]
  TECHAPI_BENCH_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test)
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

import httpx
from common import ROOT, arguments, report, write
from sqlalchemy import create_engine, text

DAY = datetime(2026, 6, 15, tzinfo=UTC).date()
TECHS, JOBS_EACH = 200, 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(base_url: str, tmp: Path) -> tuple[str, list[str]]:
    """A fresh schema with 200 technicians, 5 jobs each; returns the URL and their tokens."""
    import random

    from techapi import create_app
    from techapi.clock import FrozenClock
    from techapi.config import load_settings
    from techapi.db import Database
    from techapi.jobs.sync import sync_day
    from techapi.spapi.sandbox import Sandbox
    from techapi.spapi.sandbox.seed import make_job

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(base_url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    url = f"{base_url}{'&' if '?' in base_url else '?'}options=-csearch_path%3D{schema}"
    Database(url).upgrade()
    clock = FrozenClock(datetime(2026, 6, 15, 6, 0, tzinfo=UTC))
    box = Sandbox(clock=clock)
    rng = random.Random(1)
    for t in range(TECHS):
        tech = (f"ALOADTECH{t:05d}", f"Tech {t}")
        for j in range(JOBS_EACH):
            start = datetime.combine(DAY, dtime(8), tzinfo=UTC) + timedelta(hours=2 * j)
            box.state.add_job(make_job(rng, marketplace_id="ATVPDKIKX0DER", store_id=f"store-{t // 20}",
                                       technician=tech, start=start, created=start - timedelta(days=3)))
    settings = load_settings(environ={"TECHAPI_DATABASE_URL": url, "TECHAPI_INSTANCE_PATH": str(tmp),
                                      "TECHAPI_LOG_LEVEL": "WARNING"})
    app = create_app(settings.with_overrides(argon2_time_cost=1, argon2_memory_kib=1024), clock=clock, sandbox=box)
    deps = app.extensions["techapi"]
    sync_day(deps, DAY)
    from techapi.auth.services import create_user, login
    from techapi.clock import SystemClock

    tokens = []
    now = SystemClock()  # the web processes check token expiry against the real clock
    with deps.db.session() as session:
        for t in range(TECHS):
            create_user(session, deps.passwords, now, f"tech{t}", "technician", "load-password",
                        technician_id=f"ALOADTECH{t:05d}")
            tokens.append(login(session, deps.passwords, deps.settings, now, f"tech{t}", "load-password",
                                "bench").access_token)
    deps.db.dispose()
    return url, tokens


def wrk(url: str, tokens: list[str], seconds: int, tmp: Path) -> dict:
    script = tmp / "tokens.lua"
    script.write_text("tokens = {" + ",".join(f'"{t}"' for t in tokens) + "}\n" + """
request = function()
  local t = tokens[math.random(#tokens)]
  return wrk.format("GET", "/v1/jobs?date=2026-06-15", {["Authorization"] = "Bearer " .. t})
end
""")
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)

    def pct(p: str) -> str:
        m = re.search(rf"\s{p}%\s+([\d.]+\w+)", out)
        return m.group(1) if m else "?"

    return {"rps": rps, "p50": pct("50"), "p99": pct("99"), "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": sum(int(x) for x in errors.groups()) if errors else 0}


def serve(app_path: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    proc = subprocess.Popen([str(gunicorn), "-c", "gunicorn.conf.py", app_path], cwd=ROOT,
                            env={**env, "PORT": str(port)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(f"{base}/v1/jobs", timeout=1).status_code in (200, 401):
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{app_path} did not start")


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk")
    tmp = Path(tempfile.mkdtemp(prefix="techapi-load-"))
    base_url = os.environ.get("TECHAPI_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    url, tokens = prepare(base_url, tmp)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("TECHAPI_", "PROMETHEUS_"))},
           "TECHAPI_DATABASE_URL": url, "TECHAPI_INSTANCE_PATH": str(tmp), "TECHAPI_LOG_LEVEL": "WARNING"}
    figures = {}
    for name, app_path in (("ceiling (bare Flask)", "bench.bare_app:app"), ("techapi", "app:app")):
        proc, base = serve(app_path, env)
        try:
            wrk(base, tokens, 3, tmp)  # warm up
            figures[name] = wrk(base, tokens, args.seconds, tmp)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=40)
        print(f"{name}: {figures[name]}")
    ours, ceiling = figures["techapi"], figures["ceiling (bare Flask)"]
    ratio = ours["rps"] / ceiling["rps"]
    errors = ours["non_2xx"] + ours["socket_errors"]
    result = report("GET /v1/jobs under load", ratio, ">= 0.5 of the ceiling, no errors",
                    ratio >= 0.5 and errors == 0, techapi=ours, ceiling=ceiling,
                    web_processes=os.environ.get("WEB_CONCURRENCY", str(os.cpu_count() * 2)))
    write(args.json, [result])


if __name__ == "__main__":
    main()
