"""A job is closed or cancelled, never both: whichever is asked for first blocks the other."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from techapi.closures.models import Cancellation, Closure
from tests.closing import ask_closure, make_ready


@pytest.fixture
def people(auth, world, synced):
    auth.user("tech", "technician", technician_id=world.technician_ids[0])
    auth.user("boss", "supervisor", stores=tuple(world.store_ids))
    return {name: auth.headers(name) for name in ("tech", "boss")}


@pytest.fixture
def job_id(client, people):
    return client.get("/v1/jobs", headers=people["tech"]).get_json()["jobs"][1]["serviceJobId"]


def cancel(client, headers, job_id):
    return client.post(f"/v1/jobs/{job_id}/cancellation", json={"reasonCode": "S13"}, headers=headers)


def test_no_closure_while_a_cancellation_is_queued(client, people, job_id, deps):
    make_ready(client, people["tech"], job_id)
    assert cancel(client, people["boss"], job_id).status_code == 202
    refused = ask_closure(client, people["tech"], job_id)
    assert refused.status_code == 409
    assert refused.get_json()["message"] == ("A cancellation (S13) is queued for this job; it cannot be closed "
                                             "unless sending that cancellation fails")
    with deps.db.session() as session:
        assert session.scalar(select(Closure).where(Closure.service_job_id == job_id)) is None


def test_an_offline_closure_while_a_cancellation_is_queued_is_rejected_with_the_reason(client, people, job_id):
    make_ready(client, people["tech"], job_id)
    cancel(client, people["tech"], job_id)
    batch = {"sentAt": "2026-06-15T15:00:00Z",
             "actions": [{"idempotencyKey": "c1", "type": "closure", "serviceJobId": job_id}]}
    result = client.post("/v1/sync/actions", json=batch, headers=people["tech"]).get_json()["results"][0]
    assert result["status"] == "rejected" and "cancellation (S13) is queued" in result["reason"]


@pytest.mark.parametrize("approved", [False, True])
def test_no_cancellation_while_a_closure_waits_or_is_queued(client, people, job_id, deps, approved):
    make_ready(client, people["tech"], job_id)
    assert ask_closure(client, people["tech"], job_id).status_code == 200
    if approved:
        assert client.post(f"/v1/jobs/{job_id}/closure/approve", headers=people["boss"]).status_code == 200
    refused = cancel(client, people["tech"], job_id)
    assert refused.status_code == 409
    assert refused.get_json()["message"] == (
        "A closure is queued to be sent; the job cannot be cancelled unless sending it fails" if approved else
        "A closure is waiting for approval; reject it before cancelling the job")
    with deps.db.session() as session:
        assert session.get(Cancellation, job_id) is None


def test_a_rejected_closure_no_longer_blocks_a_cancellation(client, people, job_id):
    make_ready(client, people["tech"], job_id)
    ask_closure(client, people["tech"], job_id)
    client.post(f"/v1/jobs/{job_id}/closure/reject", json={"reason": "wrong site"}, headers=people["boss"])
    assert cancel(client, people["tech"], job_id).status_code == 202
