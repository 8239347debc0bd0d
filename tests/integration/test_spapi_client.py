"""The SP-API client against the sandbox over real HTTP on loopback."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from techapi.retry import RetryPolicy
from techapi.spapi import plans
from techapi.spapi.client import ServiceJobsQuery
from techapi.spapi.errors import (
    LwaError,
    SpApiBadRequest,
    SpApiNotFound,
    SpApiServerError,
    SpApiTransportError,
    SpApiUnprocessable,
)
from techapi.spapi.ratelimit import LocalRateLimiter
from techapi.spapi.sandbox import SANDBOX_CLIENT_SECRET, Faults
from techapi.spapi.sandbox.seed import seed_bulk
from techapi.spapi.types import FulfillmentData
from tests.conftest import NOW, http_client

pytestmark = pytest.mark.db_independent  # CI runs it once, in the SQLite stage

TODAY = ServiceJobsQuery(created_after=NOW - timedelta(days=60))


def first_job_id(server) -> str:
    """A job SP-API still expects service on, with an active appointment."""
    return next(j.job_id for j in server.sandbox.state.jobs.values() if j.status == "NOT_SERVICED")


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# LWA ------------------------------------------------------------------------------


def test_access_token_is_fetched_once_and_reused_across_calls(http_sandbox):
    client = http_client(http_sandbox)
    for _ in range(5):
        client.get_service_job(first_job_id(http_sandbox))
    assert http_sandbox.sandbox.state.token_grants == 1
    assert http_sandbox.sandbox.state.calls_of("lwaToken", 200) == 1


def test_token_is_refreshed_shortly_before_it_expires(http_sandbox):
    tick = FakeMonotonic()
    client = http_client(http_sandbox, monotonic=tick)
    client.get_service_job(first_job_id(http_sandbox))
    tick.now += 3600 - 90  # still more than a minute left: cached
    client.get_service_job(first_job_id(http_sandbox))
    assert http_sandbox.sandbox.state.token_grants == 1
    tick.now += 45  # inside the one-minute margin: refreshed
    client.get_service_job(first_job_id(http_sandbox))
    assert http_sandbox.sandbox.state.token_grants == 2


def test_token_refused_by_spapi_is_replaced_once_and_the_call_succeeds(http_sandbox, clock):
    client = http_client(http_sandbox)
    client.get_service_job(first_job_id(http_sandbox))
    clock.advance(hours=2)  # the sandbox now considers our cached token expired
    job = client.get_service_job(first_job_id(http_sandbox))
    assert job.service_job_id == first_job_id(http_sandbox)
    assert http_sandbox.sandbox.state.token_grants == 2
    assert http_sandbox.sandbox.state.calls_of(plans.GET_SERVICE_JOB, 403) == 1


def test_concurrent_callers_share_one_token_refresh(http_sandbox):
    client = http_client(http_sandbox)
    barrier = threading.Barrier(8)
    tokens: list[str] = []

    def grab() -> None:
        barrier.wait()
        tokens.append(client.tokens.get())

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(set(tokens)) == 1 and len(tokens) == 8
    assert http_sandbox.sandbox.state.token_grants == 1


def test_wrong_lwa_secret_raises_lwa_error_without_the_secret(http_sandbox):
    client = http_client(http_sandbox, client_secret="not-the-secret-x9")
    with pytest.raises(LwaError) as info:
        client.get_service_job(first_job_id(http_sandbox))
    assert info.value.status == 401
    assert "invalid_client" in str(info.value)
    assert "not-the-secret-x9" not in str(info.value)
    assert SANDBOX_CLIENT_SECRET not in str(info.value)


# Pagination and query shape ---------------------------------------------------------------


def test_iter_service_jobs_follows_next_page_token_through_every_page(http_sandbox):
    seed_bulk(http_sandbox.sandbox.state, 45, NOW.date(), "UTC", "ATVPDKIKX0DER")
    client = http_client(http_sandbox)
    query = ServiceJobsQuery(created_after=NOW - timedelta(days=60), store_ids=["bulk-store-0001"])
    jobs = list(client.iter_service_jobs(query))
    assert len(jobs) == 45
    assert len({j.service_job_id for j in jobs}) == 45
    assert http_sandbox.sandbox.state.calls_of(plans.GET_SERVICE_JOBS, 200) == 3  # 20 + 20 + 5


def test_get_service_jobs_sends_the_model_query_shape(http_sandbox):
    client = http_client(http_sandbox)
    query = ServiceJobsQuery(
        created_after=NOW - timedelta(days=60),
        statuses=["NOT_SERVICED", "COMPLETED"],
        schedule_start=NOW - timedelta(hours=15),
        schedule_end=NOW + timedelta(hours=9),
        page_size=5,
    )
    page = client.get_service_jobs(query)
    assert len(page.jobs) == 5
    assert page.total_result_size == 30  # six technicians, five jobs each, today
    assert page.next_page_token
    assert all(j.status in ("NOT_SERVICED", "COMPLETED") for j in page.jobs)


def test_query_needs_exactly_one_of_created_after_and_last_updated_after():
    with pytest.raises(ValueError):
        ServiceJobsQuery()
    with pytest.raises(ValueError):
        ServiceJobsQuery(created_after=NOW, last_updated_after=NOW)


# Rate limiting --------------------------------------------------------------------


@pytest.mark.slow
def test_syncing_500_jobs_under_a_tight_usage_plan_is_never_throttled(clock):
    from techapi.spapi.sandbox import Sandbox, SandboxConfig, SandboxServer

    tight = {**plans.USAGE_PLANS, plans.GET_SERVICE_JOBS: plans.UsagePlan(10, 5)}
    box = Sandbox(clock=clock, config=SandboxConfig(usage_plans=tight))
    seed_bulk(box.state, 500, NOW.date(), "UTC", "ATVPDKIKX0DER")
    with SandboxServer(box) as server:
        client = http_client(server, limiter=LocalRateLimiter(tight))
        started = time.monotonic()
        jobs = list(client.iter_service_jobs(TODAY))
        elapsed = time.monotonic() - started
    assert len(jobs) == 500
    assert box.state.throttled() == 0
    # 25 pages, 5 in the burst, 20 more at 10/s: the limiter really waited.
    assert elapsed >= 1.8


@pytest.mark.slow
def test_without_the_client_side_limiter_the_sandbox_throttles(clock):
    from techapi.spapi.sandbox import Sandbox, SandboxConfig, SandboxServer

    tight = {**plans.USAGE_PLANS, plans.GET_SERVICE_JOBS: plans.UsagePlan(10, 5)}
    box = Sandbox(clock=clock, config=SandboxConfig(usage_plans=tight))
    seed_bulk(box.state, 500, NOW.date(), "UTC", "ATVPDKIKX0DER")
    unlimited = LocalRateLimiter({plans.GET_SERVICE_JOBS: plans.UsagePlan(10_000, 10_000)})
    with SandboxServer(box) as server:
        client = http_client(server, limiter=unlimited,
                             retry=RetryPolicy(max_attempts=8, base_delay=0.05, max_delay=0.5))
        jobs = list(client.iter_service_jobs(TODAY))
    assert len(jobs) == 500  # retries on 429 still get everything...
    assert box.state.throttled() > 0  # ...but only after being throttled


class NoLimiter:
    """No client-side limiter at all: every call goes out at once (a fake of the RateLimiter port)."""

    def acquire(self, operation: str) -> float:
        return 0.0

    def penalise(self, operation: str) -> None:
        pass

    def observe_limit(self, operation: str, rate: float) -> None:
        pass


# Pages of ten: 450 bulk jobs and the demo's 96 make 55 pages, more than the
# default plan's burst of 40, so the last 15 can only go at its rate of 10/s.
SMALL_PAGES = ServiceJobsQuery(created_after=NOW - timedelta(days=60), page_size=10)


def sync_more_pages_than_the_burst(server, limiter) -> tuple[int, float]:
    seed_bulk(server.sandbox.state, 450, NOW.date(), "UTC", "ATVPDKIKX0DER")
    client = http_client(server, limiter=limiter, retry=RetryPolicy(max_attempts=8, base_delay=0.05, max_delay=0.5))
    started = time.monotonic()
    jobs = list(client.iter_service_jobs(SMALL_PAGES))
    assert len({j.service_job_id for j in jobs}) == len(server.sandbox.state.jobs) == 546
    return server.sandbox.state.calls_of(plans.GET_SERVICE_JOBS, 200), time.monotonic() - started


@pytest.mark.slow
def test_syncing_more_pages_than_the_burst_with_default_plans_gets_no_429(http_sandbox):
    pages, elapsed = sync_more_pages_than_the_burst(http_sandbox, LocalRateLimiter())
    plan = plans.USAGE_PLANS[plans.GET_SERVICE_JOBS]
    assert pages == 55 > plan.burst
    assert http_sandbox.sandbox.state.throttled() == 0
    assert elapsed >= (pages - plan.burst) / plan.rate * 0.9  # the limiter really waited


def test_the_same_sync_without_a_client_side_limiter_is_throttled_under_default_plans(http_sandbox):
    pages, _ = sync_more_pages_than_the_burst(http_sandbox, NoLimiter())
    assert pages == 55  # retries on 429 still get everything...
    assert http_sandbox.sandbox.state.throttled() > 0  # ...but only after being throttled


@pytest.mark.slow
def test_single_job_fetches_from_four_threads_respect_the_rate(http_sandbox):
    client = http_client(http_sandbox)
    ids = list(http_sandbox.sandbox.state.jobs)[:70]
    started = time.monotonic()
    threads = [threading.Thread(target=lambda part=ids[i::4]: [client.get_service_job(j) for j in part])
               for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    elapsed = time.monotonic() - started
    assert http_sandbox.sandbox.state.calls_of(plans.GET_SERVICE_JOB, 200) == 70
    assert http_sandbox.sandbox.state.throttled() == 0
    assert elapsed >= (70 - 40) / 20 * 0.9  # burst 40, then 20/s


def test_lower_rate_advertised_by_spapi_slows_the_client_down(http_sandbox):
    limiter = LocalRateLimiter()
    box = http_sandbox.sandbox
    box.config.usage_plans[plans.GET_SERVICE_JOB] = plans.UsagePlan(2, 40)
    client = http_client(http_sandbox, limiter=limiter)
    client.get_service_job(first_job_id(http_sandbox))
    assert limiter.bucket(plans.GET_SERVICE_JOB).rate == 2


# Retries and failures -------------------------------------------------------------------


def test_5xx_then_success_is_retried_transparently(http_sandbox):
    http_sandbox.sandbox.set_faults(Faults(script={plans.GET_SERVICE_JOB: [503, 500]}))
    client = http_client(http_sandbox)
    job = client.get_service_job(first_job_id(http_sandbox))
    assert job.service_job_id == first_job_id(http_sandbox)
    state = http_sandbox.sandbox.state
    assert state.calls_of(plans.GET_SERVICE_JOB, 503) == 1
    assert state.calls_of(plans.GET_SERVICE_JOB, 500) == 1
    assert state.calls_of(plans.GET_SERVICE_JOB, 200) == 1


def test_429_is_retried_and_empties_the_local_bucket(http_sandbox):
    limiter = LocalRateLimiter()
    http_sandbox.sandbox.set_faults(Faults(script={plans.GET_SERVICE_JOB: [429]}))
    client = http_client(http_sandbox, limiter=limiter)
    client.get_service_job(first_job_id(http_sandbox))
    assert http_sandbox.sandbox.state.calls_of(plans.GET_SERVICE_JOB, 429) == 1
    assert http_sandbox.sandbox.state.calls_of(plans.GET_SERVICE_JOB, 200) == 1
    assert limiter.bucket(plans.GET_SERVICE_JOB).reserve() > 0  # drained by the 429


def test_persistent_5xx_gives_up_after_the_bounded_attempts(http_sandbox):
    http_sandbox.sandbox.set_faults(Faults(script={plans.GET_SERVICE_JOB: [500] * 10}))
    client = http_client(http_sandbox, retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05))
    with pytest.raises(SpApiServerError) as info:
        client.get_service_job(first_job_id(http_sandbox))
    assert info.value.status == 500
    assert http_sandbox.sandbox.state.calls_of(plans.GET_SERVICE_JOB) == 3


def test_4xx_other_than_429_is_never_retried(http_sandbox):
    http_sandbox.sandbox.set_faults(Faults(script={}))
    client = http_client(http_sandbox)
    with pytest.raises(SpApiBadRequest) as info:
        client.cancel_service_job(first_job_id(http_sandbox), "bad code!")
    assert info.value.code == "InvalidInput"
    assert "cancellationReasonCode" in info.value.message
    assert http_sandbox.sandbox.state.calls_of(plans.CANCEL_SERVICE_JOB) == 1


def test_read_timeout_is_retried_then_reported_as_a_transport_error(http_sandbox):
    http_sandbox.sandbox.set_faults(Faults(latency_seconds=1.0))
    client = http_client(http_sandbox, read_timeout=0.2,
                         retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02))
    client.tokens.get()  # LWA is not slowed; only SP-API calls are
    started = time.monotonic()
    with pytest.raises(SpApiTransportError) as info:
        client.get_service_job(first_job_id(http_sandbox))
    assert "ReadTimeout" in str(info.value)
    assert time.monotonic() - started < 1.5


def test_unreachable_endpoint_is_a_transport_error():
    import httpx

    from techapi.config import Secret
    from techapi.spapi.client import SpApiClient
    from techapi.spapi.lwa import LwaCredentials, LwaTokenProvider

    http = httpx.Client(timeout=httpx.Timeout(0.5))
    tokens = LwaTokenProvider(http, "http://127.0.0.1:9/auth/o2/token",
                              LwaCredentials("id", Secret("s"), Secret("r")), max_attempts=1)
    client = SpApiClient("http://127.0.0.1:9", "ATVPDKIKX0DER", tokens, http, LocalRateLimiter())
    with pytest.raises(SpApiTransportError):
        client.get_service_job("x")


# Typed errors -------------------------------------------------------------------------


def test_unknown_job_is_a_typed_not_found(http_sandbox):
    with pytest.raises(SpApiNotFound) as info:
        http_client(http_sandbox).get_service_job("no-such-job")
    assert info.value.status == 404
    assert info.value.message == "Job not found for jobId no-such-job"
    assert info.value.request_id


def test_completing_without_fulfillment_data_is_unprocessable(http_sandbox):
    with pytest.raises(SpApiUnprocessable) as info:
        http_client(http_sandbox).complete_service_job(first_job_id(http_sandbox))
    assert info.value.code == "InvalidInput"
    assert "fulfillmentTime" in info.value.message


def test_fulfillment_errors_in_a_bare_error_list_are_parsed(http_sandbox):
    job_id = first_job_id(http_sandbox)
    appt = http_sandbox.sandbox.state.jobs[job_id].payload["appointments"][0]["appointmentId"]
    data = FulfillmentData(start=NOW + timedelta(days=1), end=NOW + timedelta(days=1, hours=1))
    with pytest.raises(SpApiUnprocessable) as info:
        http_client(http_sandbox).set_appointment_fulfillment_data(job_id, appt, data)
    messages = [e.message for e in info.value.errors]
    assert "Appointment start time should not be in future. Please check the input again" in messages
