"""SP-API budget use: the time to sync 5,000 jobs and to close 200 jobs with three
documents each against the sandbox over HTTP with the real usage plans, divided
by the least time those plans allow for the same calls (burst first, then the
rate), measured in the same run.

Goal: within 1.1x, and no 429. Usage: python bench/spapi_budget.py [--json out.json]
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from common import arguments, report, write

from techapi import create_app
from techapi.auth.services import create_user
from techapi.clock import FrozenClock, SystemClock
from techapi.config import load_settings
from techapi.db import Database
from techapi.jobs.sync import sync_day
from techapi.spapi import plans
from techapi.spapi.sandbox import (
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_REFRESH_TOKEN,
    Sandbox,
    SandboxServer,
)
from techapi.spapi.sandbox.seed import seed_bulk
from techapi.worker.runner import Worker
from tests.closing import ask_closure, make_ready

NOW = datetime(2026, 6, 15, 15, 0, tzinfo=UTC)
PASSWORD = "bench-password-1"


def minimum(counts: dict[str, int]) -> float:
    return max(max(0, n - plans.USAGE_PLANS[op].burst) / plans.USAGE_PLANS[op].rate
               for op, n in counts.items() if n)


def successes(box: Sandbox) -> dict[str, int]:
    return {op: box.state.calls_of(op, 200) + box.state.calls_of(op, 204) for op in plans.USAGE_PLANS}


def main() -> None:
    args = arguments(__doc__).parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="techapi-bench-"))
    box = Sandbox(clock=FrozenClock(NOW))
    sync_ids = seed_bulk(box.state, 5000, NOW.date(), "UTC", "ATVPDKIKX0DER", technician_id="ASYNCTECH00001",
                         store_id="sync-store", seed=1)
    close_ids = seed_bulk(box.state, 200, NOW.date(), "UTC", "ATVPDKIKX0DER", technician_id="ACLOSETECH0001",
                          store_id="close-store", seed=2)
    results = []
    with SandboxServer(box) as server:
        env = {"TECHAPI_DATABASE_URL": f"sqlite:///{tmp}/bench.db", "TECHAPI_INSTANCE_PATH": str(tmp),
               "TECHAPI_SPAPI_ENDPOINT": server.url, "TECHAPI_LWA_TOKEN_URL": f"{server.url}/auth/o2/token",
               "TECHAPI_LWA_CLIENT_ID": SANDBOX_CLIENT_ID, "TECHAPI_LWA_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
               "TECHAPI_LWA_REFRESH_TOKEN": SANDBOX_REFRESH_TOKEN, "TECHAPI_UPLOAD_ALLOWED_HOSTS": "127.0.0.1",
               "TECHAPI_LOG_LEVEL": "WARNING"}
        settings = load_settings(environ=env)
        Database(settings.database_url).upgrade()
        app = create_app(settings, clock=SystemClock())
        deps = app.extensions["techapi"]

        before = successes(box)
        started = time.monotonic()
        result = sync_day(deps, NOW.date())
        elapsed = time.monotonic() - started
        calls = {op: n - before[op] for op, n in successes(box).items()}
        floor = minimum(calls)
        assert result.fetched == len(sync_ids) + len(close_ids)
        results.append(report("sync 5,200 jobs", elapsed / floor, "<= 1.1", elapsed / floor <= 1.1,
                              seconds=round(elapsed, 2), plan_minimum_seconds=round(floor, 2),
                              pages=calls[plans.GET_SERVICE_JOBS], throttled=box.state.throttled()))

        with deps.db.session() as session:
            create_user(session, deps.passwords, deps.clock, "tech", "technician", PASSWORD,
                        technician_id="ACLOSETECH0001")
            create_user(session, deps.passwords, deps.clock, "boss", "supervisor", PASSWORD, stores=["close-store"])
        client = app.test_client()

        def login(user: str) -> dict[str, str]:
            token = client.post("/v1/auth/token", json={"username": user, "password": PASSWORD}).get_json()
            return {"Authorization": f"Bearer {token['access_token']}"}

        tech, boss = login("tech"), login("boss")
        for job_id in close_ids:  # the technicians' part, not timed: start, finish, POA + 2 photos, ask
            make_ready(client, tech, job_id, photos=2)
            ask_closure(client, tech, job_id)
            client.post(f"/v1/jobs/{job_id}/closure/approve", headers=boss)
        before = successes(box)
        started = time.monotonic()
        assert Worker(app).drain(max_seconds=900) == 0
        elapsed = time.monotonic() - started
        calls = {op: n - before[op] for op, n in successes(box).items()}
        floor = minimum(calls)
        completions = sum(box.state.jobs[j].completions for j in close_ids)
        results.append(report("close 200 jobs with 3 documents each", elapsed / floor, "<= 1.1",
                              elapsed / floor <= 1.1 and box.state.throttled() == 0,
                              seconds=round(elapsed, 2), plan_minimum_seconds=round(floor, 2),
                              upload_destinations=calls[plans.CREATE_UPLOAD_DESTINATION],
                              completions=completions, throttled=box.state.throttled()))
        deps.db.dispose()
    write(args.json, results)


if __name__ == "__main__":
    main()
