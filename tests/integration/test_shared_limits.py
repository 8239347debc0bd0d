"""SP-API buckets shared by many processes: PostgreSQL (in PostgreSQL runs) and Redis."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import create_engine

from techapi.db import Database
from techapi.spapi import plans
from techapi.spapi.client import ServiceJobsQuery
from techapi.spapi.errors import SpApiThrottled
from techapi.spapi.ratelimit import LocalRateLimiter
from techapi.spapi.sandbox import Sandbox, SandboxConfig, SandboxServer
from techapi.spapi.sandbox.seed import seed_bulk
from techapi.spapi.shared_limits import PostgresRateLimiter, RedisRateLimiter
from tests.conftest import NOW, TEST_DATABASE_URL, http_client

REDIS_URL = "redis://127.0.0.1:6379/15"
TIGHT = {**plans.USAGE_PLANS, plans.GET_SERVICE_JOB: plans.UsagePlan(20, 5)}
BACKENDS = ["redis"] + (["postgres"] if TEST_DATABASE_URL else [])


@pytest.fixture(params=BACKENDS)
def make_limiter(request, database_url):
    account = f"test-{uuid.uuid4().hex}"
    if request.param == "redis":
        return lambda: RedisRateLimiter(REDIS_URL, account, plans=TIGHT)
    engine = Database(database_url).engine
    return lambda: PostgresRateLimiter(engine, account, plans=TIGHT)


@pytest.mark.slow
def test_limiters_in_separate_processes_share_one_budget(make_limiter, clock):
    box = Sandbox(clock=clock, config=SandboxConfig(usage_plans=dict(TIGHT)))
    ids = seed_bulk(box.state, 10, NOW.date(), "UTC", "ATVPDKIKX0DER")
    with SandboxServer(box) as server:
        # Four "processes": each its own client and limiter object, one account.
        clients = [http_client(server, limiter=make_limiter()) for _ in range(4)]
        started = time.monotonic()
        threads = [threading.Thread(target=lambda c=c: [c.get_service_job(ids[i % 10]) for i in range(15)])
                   for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        elapsed = time.monotonic() - started
    assert box.state.calls_of(plans.GET_SERVICE_JOB, 200) == 60
    assert box.state.throttled() == 0
    assert elapsed >= (60 - 5) / 20 * 0.9  # burst 5, then 20/s for all four together


@pytest.mark.slow
def test_separate_local_limiters_overrun_the_shared_plan(clock):
    """The control: what the shared buckets prevent."""
    box = Sandbox(clock=clock, config=SandboxConfig(usage_plans=dict(TIGHT)))
    ids = seed_bulk(box.state, 10, NOW.date(), "UTC", "ATVPDKIKX0DER")
    with SandboxServer(box) as server:
        clients = [http_client(server, limiter=LocalRateLimiter(TIGHT)) for _ in range(4)]

        def hammer(client) -> None:
            for i in range(15):
                try:
                    client.get_service_job(ids[i % 10])
                except SpApiThrottled:
                    pass

        threads = [threading.Thread(target=hammer, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert box.state.throttled() > 0


@pytest.mark.slow
def test_a_bucket_refills_at_its_rate_and_caps_at_its_burst(make_limiter):
    limiter = make_limiter()

    def take(n: int) -> float:
        started = time.monotonic()
        for _ in range(n):
            limiter.acquire(plans.GET_SERVICE_JOB)
        return time.monotonic() - started

    assert 0.95 <= take(25) <= 1.6  # burst 5, then 20 more at 20/s (plus the cushion once)
    time.sleep(1.0)  # a second at 20/s would be 20 tokens, but the bucket holds 5
    assert take(5) <= 0.3
    assert take(10) >= 10 / 20 * 0.9


def test_a_429_empties_the_shared_bucket_for_everyone(make_limiter):
    first, second = make_limiter(), make_limiter()
    first.penalise(plans.GET_SERVICE_JOB)
    assert second.acquire(plans.GET_SERVICE_JOB) > 0


def test_a_lower_advertised_rate_is_honoured(make_limiter):
    limiter = make_limiter()
    limiter.observe_limit(plans.GET_SERVICE_JOB, 2.0)
    assert limiter.plan(plans.GET_SERVICE_JOB) == (2.0, 5)
    limiter.observe_limit(plans.GET_SERVICE_JOB, 50.0)
    assert limiter.plan(plans.GET_SERVICE_JOB) == (2.0, 5)


def test_the_app_picks_the_shared_limiter_for_its_database(tmp_path, database_url, http_sandbox):
    from techapi.config import load_settings
    from techapi.spapi.factory import build_limiter

    env = {"TECHAPI_DATABASE_URL": database_url, "TECHAPI_INSTANCE_PATH": str(tmp_path),
           "TECHAPI_SPAPI_ENDPOINT": http_sandbox.url, "TECHAPI_LWA_CLIENT_ID": "id",
           "TECHAPI_LWA_CLIENT_SECRET": "s", "TECHAPI_LWA_REFRESH_TOKEN": "r",
           "TECHAPI_LWA_TOKEN_URL": f"{http_sandbox.url}/auth/o2/token"}
    engine = create_engine(database_url)
    plain = build_limiter(load_settings(environ=env), engine)
    expected = PostgresRateLimiter if TEST_DATABASE_URL else LocalRateLimiter
    assert isinstance(plain, expected)
    with_redis = build_limiter(load_settings(environ={**env, "TECHAPI_REDIS_URL": REDIS_URL}), engine)
    assert isinstance(with_redis, RedisRateLimiter)
    sandboxed = build_limiter(load_settings(environ={"TECHAPI_INSTANCE_PATH": str(tmp_path)}), engine)
    assert isinstance(sandboxed, LocalRateLimiter)
    engine.dispose()


def test_syncing_through_a_shared_limiter_works_end_to_end(make_limiter, http_sandbox):
    client = http_client(http_sandbox, limiter=make_limiter())
    jobs = list(client.iter_service_jobs(ServiceJobsQuery(created_after=NOW.replace(month=1))))
    assert len(jobs) >= 30 and http_sandbox.sandbox.state.throttled() == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_fresh_shared_bucket_lets_exactly_its_burst_through(backend, database_url):
    """assignAppointmentResources' plan (1/s, burst 2): the third call at once waits a
    second, as SP-API's own bucket makes it (the first reservation was once free on PostgreSQL)."""
    account, slow = f"test-{uuid.uuid4().hex}", {plans.ASSIGN_RESOURCES: plans.UsagePlan(1, 2)}
    if backend == "redis":
        limiter = RedisRateLimiter(REDIS_URL, account, plans=slow, sleep=lambda s: None)
    else:
        limiter = PostgresRateLimiter(Database(database_url).engine, account, plans=slow, sleep=lambda s: None)
    waits = [limiter.acquire(plans.ASSIGN_RESOURCES) for _ in range(3)]
    assert waits[0] == 0
    assert 0.15 < waits[1] <= 0.25  # the cushion at the edge of the bucket
    assert 1.15 < waits[2] <= 1.25
