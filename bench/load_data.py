"""The load benchmark's data: a fresh PostgreSQL schema per run with 200
technicians, 5 jobs each on one day (half of them with a recorded start), a
token per technician; and what each caller sends back (its ETag, its cursor)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from techapi import create_app
from techapi.auth.services import create_user, login
from techapi.clock import FrozenClock, SystemClock
from techapi.config import load_settings
from techapi.db import Database
from techapi.jobs.sync import sync_day
from techapi.spapi.sandbox import Sandbox
from techapi.spapi.sandbox.seed import make_job

DAY = date(2026, 6, 15)
TECHS, JOBS_EACH = 200, 5
MAX_PAGES = 50  # of the delta feed, when following hasMore to the current cursor


@contextmanager
def fresh_schema(base_url: str) -> Iterator[str]:
    """A new schema in `base_url`'s database, dropped when the block ends; yields the URL that uses it."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(base_url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base_url}{'&' if '?' in base_url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def prepare(url: str, tmp: Path) -> list[str]:
    """Jobs and users in the (empty) schema of `url`; one token per technician."""
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
    tokens = []
    now = SystemClock()  # the web processes check token expiry against the real clock
    with deps.db.session() as session:
        for t in range(TECHS):
            create_user(session, deps.passwords, now, f"tech{t}", "technician", "load-password",
                        technician_id=f"ALOADTECH{t:05d}")
            tokens.append(login(session, deps.passwords, deps.settings, now, f"tech{t}", "load-password",
                                "bench").access_token)
        # Some evidence, so the lists differ in what they still need (and the baseline counts it).
        session.execute(text("INSERT INTO time_records (service_job_id, kind, at, received_at, source, version) "
                             "SELECT service_job_id, 'start', appointment_start, appointment_start, 'bench', 1 "
                             "FROM jobs WHERE abs(hashtext(service_job_id)) % 2 = 0"))
        session.commit()
    with deps.db.engine.connect() as conn:
        # Statistics, as autovacuum would gather them a minute later: the plans of
        # every app measured no longer depend on when the run starts.
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    deps.db.dispose()
    return tokens


def etags(base: str, path: str, tokens: list[str]) -> list[str]:
    """Each caller's ETag of `path` (each technician has their own)."""
    found = []
    with httpx.Client(base_url=base, timeout=10) as http:
        for token in tokens:
            answer = http.get(path, headers={"Authorization": f"Bearer {token}"})
            answer.raise_for_status()
            found.append(answer.headers["ETag"])
    return found


def cursors(base: str, tokens: list[str]) -> list[str] | None:
    """Each caller's current delta-feed cursor (following hasMore); None when the feed is not there (404)."""
    found = []
    with httpx.Client(base_url=base, timeout=10) as http:
        for token in tokens:
            params: dict[str, str] = {}
            for _ in range(MAX_PAGES):
                answer = http.get("/v1/sync/changes", params=params, headers={"Authorization": f"Bearer {token}"})
                if answer.status_code == 404 and not params:
                    return None
                answer.raise_for_status()
                page = answer.json()
                params = {"since": page["cursor"]}
                if not page.get("hasMore"):
                    break
            else:
                raise RuntimeError(f"the delta feed still had more after {MAX_PAGES} pages")
            found.append(params["since"])
    return found
