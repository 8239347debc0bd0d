"""Job of the day: who sees what, in which order, for which day."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import NOW


@pytest.fixture
def tech(auth, world, synced):
    auth.user("tech", "technician", technician_id=world.technician_ids[0])
    return auth.headers("tech")


def jobs_of(client, headers, **query):
    response = client.get("/v1/jobs", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_technician_gets_exactly_their_jobs_of_today_in_appointment_order(client, tech, sandbox, world):
    body = jobs_of(client, tech)
    assert body["date"] == NOW.date().isoformat() and body["timezone"] == "UTC"
    expected = sorted(
        (j.payload["appointments"][0]["appointmentTime"]["startTime"], j.job_id)
        for j in sandbox.state.jobs.values()
        if j.payload.get("appointments")
        and j.payload["appointments"][0]["appointmentTime"]["startTime"].startswith(NOW.date().isoformat())
        and j.payload["appointments"][0]["assignedTechnicians"][0]["technicianId"] == world.technician_ids[0]
    )
    assert [j["serviceJobId"] for j in body["jobs"]] == [job_id for _, job_id in expected]
    assert len(body["jobs"]) == 5


def test_a_job_entry_has_what_the_phone_needs(client, tech):
    job = jobs_of(client, tech)["jobs"][0]
    assert set(job) == {"serviceJobId", "status", "appointment", "customer", "address", "scope", "stillNeeded"}
    assert job["status"] == "NOT_SERVICED"
    assert job["appointment"]["status"] == "ACTIVE"
    assert job["appointment"]["start"] == "2026-06-15T08:00:00+00:00"
    assert job["appointment"]["durationInMinutes"] > 0
    assert job["customer"]["name"] and job["customer"]["phone"].startswith("+1 206-555-")
    assert job["address"]["oneLine"].startswith(job["address"]["addressLine1"])
    assert job["address"]["oneLine"].endswith(f"Seattle, WA {job['address']['postalCode']}")
    assert job["scope"]["title"] and job["scope"]["asin"] and job["scope"]["requiredSkills"]
    assert job["stillNeeded"] == ["START_TIME", "END_TIME", "POA_DOCUMENT"]


def test_another_day_can_be_asked_for(client, tech, deps):
    from techapi.jobs.sync import sync_day

    tomorrow = NOW.date() + timedelta(days=1)
    assert jobs_of(client, tech, date=tomorrow.isoformat())["jobs"] == []  # not synced yet
    sync_day(deps, tomorrow)
    assert len(jobs_of(client, tech, date=tomorrow.isoformat())["jobs"]) == 5


def test_today_is_the_users_own_today(client, auth, world, synced, clock):
    # The same UTC instant can be another calendar day in the user's zone (LA is UTC-7 in June).
    clock.advance(hours=-8, minutes=30)  # 07:30 UTC on the 15th = 00:30 on the 15th in LA
    auth.user("west", "technician", technician_id=world.technician_ids[0], timezone="America/Los_Angeles")
    body = jobs_of(client, auth.headers("west"))
    assert body["date"] == "2026-06-15" and body["timezone"] == "America/Los_Angeles"
    clock.advance(hours=-1)  # 23:30 on the 14th in LA
    assert jobs_of(client, auth.headers("west"))["date"] == "2026-06-14"


def test_a_supervisor_gets_the_jobs_of_their_stores_only(client, auth, world, synced, sandbox):
    auth.user("boss", "supervisor", stores=(world.store_ids[0],))
    jobs = jobs_of(client, auth.headers("boss"))["jobs"]
    assert len(jobs) == 15  # three technicians, five jobs each
    stores = {sandbox.state.jobs[j["serviceJobId"]].payload["storeId"] for j in jobs}
    assert stores == {world.store_ids[0]}


def test_an_admin_sees_every_job_of_the_day(client, auth, synced):
    auth.user("root", "admin")
    assert len(jobs_of(client, auth.headers("root"))["jobs"]) == 30


def test_a_technician_without_jobs_gets_an_empty_list(client, auth, synced):
    auth.user("new", "technician", technician_id="ANEWTECH000001")
    assert jobs_of(client, auth.headers("new"))["jobs"] == []


def test_job_detail_for_the_assigned_technician(client, tech, world):
    job_id = jobs_of(client, tech)["jobs"][0]["serviceJobId"]
    response = client.get(f"/v1/jobs/{job_id}", headers=tech)
    assert response.status_code == 200
    detail = response.get_json()
    assert detail["serviceJobId"] == job_id
    assert detail["technicians"][0]["technicianId"] == world.technician_ids[0]
    assert detail["serviceOrderId"] and detail["storeId"] == world.store_ids[0]
    assert detail["associatedItems"][0]["asin"] == detail["scope"]["asin"]
    assert detail["appointments"][0]["appointmentId"] == detail["appointment"]["appointmentId"]


def test_another_technicians_job_is_a_404_without_its_data(client, auth, world, synced, sandbox):
    auth.user("me", "technician", technician_id=world.technician_ids[0])
    other = next(j for j in sandbox.state.jobs.values() if j.payload.get("appointments")
                 and j.payload["appointments"][0].get("assignedTechnicians", [{}])[0].get("technicianId")
                 == world.technician_ids[1])
    response = client.get(f"/v1/jobs/{other.job_id}", headers=auth.headers("me"))
    assert response.status_code == 404
    assert response.get_json() == {"code": 404, "status": "Not Found", "message": "Job not found"}
    assert client.get("/v1/jobs/does-not-exist", headers=auth.headers("me")).get_json() == response.get_json()


def test_a_supervisor_of_another_store_gets_a_404(client, auth, world, synced, sandbox):
    auth.user("boss2", "supervisor", stores=(world.store_ids[1],))
    job = next(j for j in sandbox.state.jobs.values() if j.payload["storeId"] == world.store_ids[0])
    assert client.get(f"/v1/jobs/{job.job_id}", headers=auth.headers("boss2")).status_code == 404


def test_a_rescheduled_appointment_leaves_the_old_technicians_list(client, auth, world, synced, sandbox, deps, clock):
    from techapi.jobs.sync import sync_day

    auth.user("me", "technician", technician_id=world.technician_ids[0])
    headers = auth.headers("me")
    job_id = jobs_of(client, headers)["jobs"][0]["serviceJobId"]
    job = sandbox.state.jobs[job_id]
    with sandbox.state.lock:  # SP-API side: appointment cancelled, a new one for someone else
        old = job.payload["appointments"][0]
        old["appointmentStatus"] = "CANCELLED"
        job.payload["appointments"].append({
            "appointmentId": job_id + "_new", "appointmentStatus": "ACTIVE",
            "appointmentTime": {"startTime": "2026-06-15T17:00:00.000Z", "durationInMinutes": 60},
            "assignedTechnicians": [{"technicianId": world.technician_ids[1], "name": "Other"}]})
        job.updated_at = clock.now()
    clock.advance(minutes=10)
    sync_day(deps, NOW.date())
    assert job_id not in [j["serviceJobId"] for j in jobs_of(client, headers)["jobs"]]
    assert client.get(f"/v1/jobs/{job_id}", headers=headers).status_code == 404


@pytest.mark.parametrize("value", ["2026-13-01", "tomorrow", "15/06/2026"])
def test_a_bad_date_is_a_422_naming_the_field(client, tech, value):
    response = client.get("/v1/jobs", headers=tech, query_string={"date": value})
    assert response.status_code == 422
    assert "date" in response.get_json()["errors"]["query"]


def test_completed_jobs_need_nothing_more(client, auth, world, deps):
    from techapi.jobs.sync import sync_day

    yesterday = NOW.date() - timedelta(days=1)
    sync_day(deps, yesterday)
    auth.user("me", "technician", technician_id=world.technician_ids[0])
    jobs = jobs_of(client, auth.headers("me"), date=yesterday.isoformat())["jobs"]
    assert jobs and all(j["stillNeeded"] == [] for j in jobs if j["status"] == "COMPLETED")
    assert any(j["status"] == "COMPLETED" for j in jobs)
