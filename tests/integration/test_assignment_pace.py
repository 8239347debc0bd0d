"""A morning's dispatch against the sandbox over real HTTP: 60 assignments queued
at once go out at assignAppointmentResources' usage plan (1 request/s, burst 2),
never throttled and within 10% of the least time the plan allows."""

from __future__ import annotations

import time

import pytest

from techapi.auth.services import create_user
from techapi.spapi import plans
from techapi.worker.runner import Worker
from tests.conftest import NOW, PASSWORD
from tests.integration.test_closure_pipeline import STORE, World

JOBS = 60
SECOND_TECH = "ABULKTECH00002"


@pytest.mark.slow
def test_60_assignments_are_never_throttled_and_finish_within_10_percent_of_the_usage_plan(
        tmp_path, clean_database, http_sandbox, storage_env):
    world = World(tmp_path, clean_database, http_sandbox, JOBS, storage_env)
    try:
        state = world.sandbox.state
        state.technicians[SECOND_TECH] = "Second Technician"
        with world.deps.db.session() as session:
            create_user(session, world.deps.passwords, world.deps.clock, "tech2", "technician", PASSWORD,
                        technician_id=SECOND_TECH, stores=[STORE])
        tech2 = world._login("tech2")
        for job_id in world.job_ids:
            response = world.client.put(f"/v1/jobs/{job_id}/technicians", json={"technicianIds": [SECOND_TECH]},
                                        headers=world.boss)
            assert response.status_code == 202, response.get_json()
        assert state.calls_of(plans.ASSIGN_RESOURCES) == 0  # queued, nothing sent yet

        started = time.monotonic()
        assert Worker(world.app).drain(max_seconds=120) == 0
        elapsed = time.monotonic() - started

        plan = plans.USAGE_PLANS[plans.ASSIGN_RESOURCES]
        minimum = (JOBS - plan.burst) / plan.rate
        print(f"\n{JOBS} assignments: {elapsed:.2f} s, the usage plan allows {minimum:.2f} s: "
              f"ratio {elapsed / minimum:.3f}")
        assert state.calls_of(plans.ASSIGN_RESOURCES, 200) == JOBS
        assert state.throttled() == 0
        assert elapsed <= minimum * 1.10
        day = world.client.get("/v1/jobs", headers=tech2, query_string={"date": NOW.date().isoformat()})
        assert sorted(j["serviceJobId"] for j in day.get_json()["jobs"]) == sorted(world.job_ids)
    finally:
        world.close()
