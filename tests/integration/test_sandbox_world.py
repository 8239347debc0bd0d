"""The sandbox's world over HTTP: the getServiceJobs filters SP-API offers,
last-updated times an incremental sync relies on, upload URLs, and days that
roll forward while it runs."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest

from techapi.spapi.client import ServiceJobsQuery
from techapi.spapi.sandbox import Sandbox
from tests.conftest import NOW, http_client

JOBS_PATH = "/service/v1/serviceJobs"


def list_jobs(server, **params) -> httpx.Response:
    token = http_client(server).tokens.get()
    query = {"marketplaceIds": "ATVPDKIKX0DER", "createdAfter": "2026-01-01T00:00:00Z", **params}
    return httpx.get(f"{server.url}{JOBS_PATH}", params=query, headers={"x-amz-access-token": token})


def ids_on(server, day: date) -> set[str]:
    client = http_client(server)
    start = NOW.replace(year=day.year, month=day.month, day=day.day, hour=0)
    query = ServiceJobsQuery(created_after=NOW.replace(month=1), schedule_start=start,
                             schedule_end=start + timedelta(days=1) - timedelta(milliseconds=1))
    return {job.service_job_id for job in client.iter_service_jobs(query)}


@pytest.mark.parametrize("name", ["productOrderIds", "trackingIds"])
def test_product_order_and_tracking_id_filters_select_their_jobs(http_sandbox, name):
    jobs = list(http_sandbox.sandbox.state.jobs.values())
    wanted = [jobs[3], jobs[40]]
    values = ",".join(job.payload[name][0] for job in wanted)
    response = list_jobs(http_sandbox, **{name: values})
    assert response.status_code == 200
    found = {j["serviceJobId"] for j in response.json()["payload"]["jobs"]}
    assert found == {job.job_id for job in wanted}
    assert all(j[name] for j in response.json()["payload"]["jobs"])  # the job says what it matched on


@pytest.mark.parametrize("name, bad", [
    ("productOrderIds", ",".join(f"111-{n:07d}-1234567" for n in range(21))),
    ("trackingIds", ",".join(f"TBA{n:012d}" for n in range(21))),
    ("productOrderIds", "not an order id"),
    ("trackingIds", "TBA 123"),
])
def test_more_than_20_order_or_tracking_ids_or_a_malformed_one_is_a_bad_request(http_sandbox, name, bad):
    response = list_jobs(http_sandbox, **{name: bad})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == f"Missing or invalid request parameters: [{name}]"


def test_twenty_tracking_ids_are_taken(http_sandbox):
    assert list_jobs(http_sandbox, trackingIds=",".join(f"TBA{n:012d}" for n in range(20))).status_code == 200


def test_seeded_completed_jobs_were_last_updated_when_their_appointment_ended(http_sandbox):
    """An incremental sync since yesterday morning sees what was completed yesterday."""
    state = http_sandbox.sandbox.state
    completed = {j.job_id for j in state.jobs.values() if j.status == "COMPLETED"}
    assert completed
    since = NOW.replace(hour=0) - timedelta(days=1)
    query = ServiceJobsQuery(last_updated_after=since, statuses=["COMPLETED"])
    seen = {job.service_job_id: job for job in http_client(http_sandbox).iter_service_jobs(query)}
    assert set(seen) == completed
    for job in seen.values():
        appointment = job.appointments[0]
        assert state.jobs[job.service_job_id].updated_at == appointment.end


def test_upload_urls_point_at_the_sandbox_whatever_host_the_caller_sends(http_sandbox):
    token = http_client(http_sandbox).tokens.get()
    response = httpx.post(f"{http_sandbox.url}/service/v1/documents", json={"contentType": "PNG", "contentLength": 10},
                          headers={"x-amz-access-token": token, "Host": "attacker.example:8443"})
    assert response.status_code == 200
    assert response.json()["payload"]["url"].startswith(f"{http_sandbox.url}/_sandbox/uploads/")


def test_the_in_process_sandbox_hands_out_urls_on_its_own_host_name(deps):
    destination = deps.spapi.create_upload_destination("PNG", 10, b"0123456789abcdef")
    assert destination.url.startswith("http://sandbox.techapi.internal/_sandbox/uploads/")


def test_a_sandbox_running_past_midnight_has_the_jobs_of_each_new_day(http_sandbox, clock):
    state = http_sandbox.sandbox.state
    today, before = NOW.date(), len(state.jobs)
    assert len(ids_on(http_sandbox, today + timedelta(days=1))) == 30  # six technicians, five jobs each
    assert ids_on(http_sandbox, today + timedelta(days=2)) == set()
    left_at = clock.now()
    clock.advance(days=2)  # two midnights later, never restarted
    later = today + timedelta(days=2)
    new_day = ids_on(http_sandbox, later)
    assert len(new_day) == 30 and len(ids_on(http_sandbox, later + timedelta(days=1))) == 30
    assert len(state.jobs) == before + 2 * 32  # two new days (30 booked, 2 waiting for a slot each), nothing twice
    # Another process started on that day (techapi serve, techapi sync) sees the same jobs.
    fresh = Sandbox.demo(later, "UTC", "ATVPDKIKX0DER", clock=clock)
    assert {j.job_id for j in fresh.state.jobs.values()} >= new_day
    # They appeared while techapi was syncing incrementally: lastUpdatedAfter sees them.
    query = ServiceJobsQuery(last_updated_after=left_at, statuses=["NOT_SERVICED"])
    assert new_day <= {j.service_job_id for j in http_client(http_sandbox).iter_service_jobs(query)}
